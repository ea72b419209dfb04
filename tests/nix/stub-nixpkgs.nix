# A stand-in for `nixpkgs.legacyPackages.${system}`: just what cube's flake, pyproject.nix,
# uv2nix and build-system-pkgs read, so that Debian's Nix 2.8 can evaluate the flake's outputs
# (tests/test_flake_eval.py). Nothing here is built.
#
# Real parts: `lib` (the nixpkgs lib snapshot) and the platforms (`lib.systems.elaborate`).
# Every derivation is a real `builtins.derivation` (builder "stub"), so string references such
# as "${venv}" in a build script land in the .drv's inputs exactly as with real nixpkgs, and the
# closures the test walks are the ones Nix computes.
#
# INVENTED (assumptions only a real Nix build against the pinned nixpkgs can confirm); each is
# marked "INVENTED" below and listed in the test's report:
#   - python3 is CPython 3.13.x (nixpkgs' default interpreter at the pinned revision);
#   - glibc 2.40 with Linux headers 6.12 (decides which manylinux wheels are compatible);
#   - python3.pkgs.torch is a CPU torch built for that same python3, version 2.9.1;
#   - every other package (chromium, uv, onetbb, makeWrapper, ...) exists under that name and
#     chromium's main program is bin/chromium;
#   - mkDerivation/mkShell/makeSetupHook/fetchurl/runCommand/replaceVars keep the interfaces
#     pyproject.nix uses (mkShell turns `packages` into nativeBuildInputs, passthru attributes
#     are reachable on the result, overrideAttrs takes `old:` or `final: prev:`);
#   - no darwinMinVersionHook (the builders accept its absence; real nixpkgs passes one on
#     macOS, which only adds a build input).
{ lib, system }:
let
  inherit (lib)
    isAttrs
    isFunction
    isList
    filterAttrs
    mapAttrs
    ;

  platform = lib.systems.elaborate system;

  # A derivation attribute as `builtins.derivation` accepts it: nested attribute sets that are
  # not derivations become JSON (which keeps their string context), functions are dropped.
  toDrvValue =
    v:
    if isList v then
      map toDrvValue v
    else if isAttrs v && !(v ? outPath) then
      builtins.toJSON v
    else
      v;

  # stdenv.mkDerivation: a fixed point over the attributes, `finalAttrs:` or plain attributes,
  # overrideAttrs with `old:` or `final: prev:`, passthru on the result (as nixpkgs does).
  mkDerivationFrom =
    rattrs:
    let
      args = lib.fix rattrs;
      passthru = args.passthru or { };
      name =
        args.name or "${args.pname}-${args.version}";
      drvArgs = filterAttrs (_: v: !isFunction v) (
        removeAttrs args [
          "passthru"
          "meta"
          "env"
          "name"
        ]
      )
      // (args.env or { });
      drv = derivation (
        mapAttrs (_: toDrvValue) drvArgs
        // {
          inherit name system;
          builder = "stub";
        }
      );
    in
    drv
    // passthru
    // {
      inherit passthru name;
      meta = args.meta or { };
      overrideAttrs =
        f0:
        let
          f =
            final: prev:
            let
              x = f0 prev;
            in
            if isFunction x then f0 final prev else x;
        in
        mkDerivationFrom (final: let prev = rattrs final; in prev // f final prev);
    };

  mkDerivation =
    fnOrAttrs: mkDerivationFrom (if isFunction fnOrAttrs then fnOrAttrs else (_: fnOrAttrs));

  stdenv = {
    inherit mkDerivation;
    buildPlatform = platform;
    hostPlatform = platform;
    targetPlatform = platform;
    inherit (platform)
      isLinux
      isDarwin
      isAarch64
      isx86_64
      ;
    cc.libc = {
      # INVENTED: glibc 2.40, Linux headers 6.12 (darwin: libSystem, never read for wheels).
      pname = if platform.isLinux then "glibc" else "libSystem";
      version = "2.40";
      linuxHeaders.version = "6.12";
    };
  };

  # A named package from the stand-in: a derivation with no build, `bin/<main>` for getExe.
  pkg =
    name: extra:
    mkDerivation (
      {
        inherit name;
        meta.mainProgram = extra.mainProgram or name;
      }
      // removeAttrs extra [ "mainProgram" ]
    );

  # INVENTED: CPython 3.13.9, the interpreter nixpkgs' binary cache builds torch for.
  python3 =
    let
      self = mkDerivation {
        pname = "python3";
        version = "3.13.9";
        passthru = {
          pythonVersion = "3.13";
          implementation = "cpython";
          sourceVersion = {
            major = "3";
            minor = "13";
            patch = "9";
            suffix = "";
          };
          sitePackages = "lib/python3.13/site-packages";
          executable = "python3.13";
          interpreter = "${self}/bin/python3.13";
          pythonOnBuildForHost = self;
          pythonForBuild = self;
          pythonOlder = v: lib.versionOlder "3.13" v;
          pythonAtLeast = v: lib.versionAtLeast "3.13" v;
          inherit stdenv;
          pkgs = python3Packages;
          isPy3k = true;
        };
      };
    in
    self;

  python3Packages = {
    # INVENTED: nixpkgs' CPU torch at the pinned revision is 2.9.1 for this python3.
    torch = mkDerivation {
      pname = "torch";
      version = "2.9.1";
      passthru.pythonModule = python3;
    };
    # build-system-pkgs borrows setup hooks from these when they are in a closure.
    cython = pkg "python3.13-cython" { };
    setuptools-scm = pkg "python3.13-setuptools-scm" {
      passthru.setupHook = pkg "setuptools-scm-setup-hook" { };
    };
  };

  makeSetupHook =
    {
      name,
      propagatedBuildInputs ? [ ],
      depsTargetTargetPropagated ? [ ],
      substitutions ? { },
      passthru ? { },
      meta ? { },
    }:
    script:
    mkDerivation {
      inherit
        name
        propagatedBuildInputs
        depsTargetTargetPropagated
        passthru
        meta
        script
        ;
      substitutions = builtins.toJSON substitutions;
    };

  pkgs = {
    inherit
      lib
      system
      stdenv
      python3
      python3Packages
      makeSetupHook
      ;
    pkgs = pkgs;
    buildPackages = pkgs;
    pythonInterpreters = { inherit python3; };
    callPackage = lib.callPackageWith pkgs;
    callPackages = lib.callPackagesWith pkgs;
    newScope = extra: lib.callPackageWith (pkgs // extra);

    mkShell =
      {
        packages ? [ ],
        nativeBuildInputs ? [ ],
        ...
      }@args:
      mkDerivation (
        removeAttrs args [ "packages" ]
        // {
          name = args.name or "nix-shell";
          nativeBuildInputs = packages ++ nativeBuildInputs;
        }
      );

    runCommand =
      name: env: buildCommand:
      mkDerivation (env // { inherit name buildCommand; });

    writeText = name: text: mkDerivation { inherit name text; };

    replaceVars =
      src: replacements:
      mkDerivation {
        name = baseNameOf (toString src);
        inherit src;
        replacements = builtins.toJSON replacements;
      };

    fetchurl =
      {
        url,
        hash ? "",
        name ? baseNameOf url,
        ...
      }:
      mkDerivation {
        inherit name url hash;
        passthru.url = url;
      };

    pythonManylinuxPackages = {
      manylinux1 = [ (pkg "manylinux1-libs" { }) ];
      manylinux2010 = [ (pkg "manylinux2010-libs" { }) ];
      manylinux2014 = [ (pkg "manylinux2014-libs" { }) ];
    };

    # INVENTED: these exist under these names in the pinned nixpkgs.
    autoPatchelfHook = pkg "auto-patchelf-hook" { };
    unzip = pkg "unzip" { };
    ugrep = pkg "ugrep" { };
    uv = pkg "uv" { };
    chromium = pkg "chromium" { };
    onetbb = pkg "onetbb" { };
    makeWrapper = pkg "make-wrapper-hook" { };
    git = pkg "git" { };
  };
in
pkgs
