# Call cube's flake.nix `outputs` the way `nix flake check` would, with the pinned sources
# unpacked from ../shared/nix (see tests/test_flake_eval.py) and the stand-in nixpkgs beside this
# file. Returns, per system, the .drv paths of everything the flake offers plus the few plain
# values the test checks; the test then reads the derivations themselves.
{
  # A copy of the flake's source as Nix would see it (the git-tracked files).
  flakeSrc,
  # Unpacked snapshots: nixpkgs' lib, pyproject.nix, uv2nix, build-system-pkgs.
  nixpkgsLib,
  pyprojectNix,
  uv2nixSrc,
  buildSystemPkgs,
  systems,
}:
let
  lib0 = import (nixpkgsLib + "/lib");
  # Nix 2.8 has no builtins.readFileType (2.14), which lib.fileset reaches through
  # lib.filesystem.pathType: the same answer, read from the parent directory.
  lib =
    if builtins ? readFileType then
      lib0
    else
      lib0.extend (
        _final: prev: {
          filesystem = prev.filesystem // {
            pathType =
              path:
              if dirOf path == path then
                "directory"
              else
                (builtins.readDir (dirOf path)).${baseNameOf path} or (throw "${toString path} does not exist");
          };
        }
      );

  pyproject-nix = import pyprojectNix { inherit lib; } // {
    outPath = pyprojectNix;
  };
  uv2nix = import uv2nixSrc { inherit pyproject-nix lib; } // {
    outPath = uv2nixSrc;
  };
  pyproject-build-systems = {
    # What build-system-pkgs' flake.nix exposes as `overlays`.
    overlays = removeAttrs (import buildSystemPkgs { inherit pyproject-nix uv2nix lib; }) [
      "overlays"
    ];
    outPath = buildSystemPkgs;
  };
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs systems (system: import ./stub-nixpkgs.nix { inherit lib system; });
    outPath = "/stub/nixpkgs";
  };

  flake = import (flakeSrc + "/flake.nix");
  self =
    flake.outputs {
      inherit
        self
        nixpkgs
        pyproject-nix
        uv2nix
        pyproject-build-systems
        ;
    }
    // {
      outPath = flakeSrc;
    };

  drvPaths = lib.mapAttrs (_: drv: drv.drvPath);
in
lib.genAttrs systems (system: {
  packages = drvPaths self.packages.${system};
  devShells = drvPaths self.devShells.${system};
  checks = drvPaths self.checks.${system};
  apps = lib.mapAttrs (_: app: {
    inherit (app) type program;
  }) self.apps.${system};
  packageOutPaths = lib.mapAttrs (_: drv: drv.outPath) self.packages.${system};
})
