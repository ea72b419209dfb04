"""The start scripts a pack carries, and the two a served pack hands out.

``START-HERE.sh`` (Linux, macOS; ``START-HERE.command`` opens it from macOS's Finder) and
``START-HERE.ps1`` (Windows) do the same five steps, offline: check the files this platform
needs against ``MANIFEST.<platform>``, find a Python, create the environment with the pack's uv
(``--offline --no-index --find-links``, never an index), import the course's cache, and run
``cube doctor --workshop``. ``get.sh`` / ``get.ps1`` copy a served pack's files for one
platform from the instructor's laptop, then run the start script.
"""

from __future__ import annotations

from pathlib import Path

_SH = r"""#!/bin/sh
# cube workshop pack: sets this laptop up offline. In a terminal: sh START-HERE.sh
# The environment goes to $CUBE_WORKSHOP (default: ~/cube-workshop).
set -eu
PACK=$(cd "$(dirname "$0")" && pwd)
DEST=${CUBE_WORKSHOP:-$HOME/cube-workshop}
CUBE_WHEEL="__CUBE_WHEEL__"
PYTHON_MIN="__PYTHON__"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLAT=linux-x86_64 ;;
  Linux-aarch64 | Linux-arm64) PLAT=linux-aarch64 ;;
  Darwin-arm64) PLAT=macos-arm64 ;;
  *) echo "cube: this pack has nothing for $(uname -s) $(uname -m); ask the instructor"; exit 2 ;;
esac
if [ ! -f "$PACK/MANIFEST.$PLAT" ]; then
  echo "cube: this pack was made without $PLAT; ask the instructor for one that has it"; exit 2
fi
step() { printf '\n== %s\n' "$1"; }

step "1/5 checking the pack's files for $PLAT"
cd "$PACK"
if command -v sha256sum >/dev/null 2>&1; then
  set -- sha256sum -c --quiet "MANIFEST.$PLAT"
else
  set -- shasum -a 256 -c --quiet "MANIFEST.$PLAT"
fi
if ! "$@"; then
  echo "cube: the files above are damaged or missing; copy the pack again (or ask for a new one)"
  exit 2
fi

UV="$PACK/uv/$PLAT/uv"
export UV_OFFLINE=1 UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never
step "2/5 finding Python $PYTHON_MIN"
if ! PY=$("$UV" python find "$PYTHON_MIN" 2>/dev/null); then
  echo "cube: no Python $PYTHON_MIN on this laptop; install one (python.org, or your package manager), then run START-HERE again"
  echo "CUBE-STUCK $PLAT failed=python"
  exit 2
fi
echo "$PY"

step "3/5 creating the environment in $DEST"
mkdir -p "$DEST"
"$UV" venv --quiet --allow-existing --python "$PY" "$DEST/.venv"

step "4/5 installing from the pack (no network)"
"$UV" pip install --python "$DEST/.venv" --offline --no-index --find-links "$PACK/wheels" \
  --require-hashes -r "$PACK/requirements/$PLAT.txt"
"$UV" pip install --python "$DEST/.venv" --offline --no-index --no-deps --reinstall-package cube \
  "$PACK/wheels/$CUBE_WHEEL"
CUBE="$DEST/.venv/bin/cube"

step "5/5 the course's cache, and a last check"
if [ -f "$PACK/cache/cube-cache.tar" ]; then
  "$CUBE" cache import "$PACK/cache/cube-cache.tar"
fi
cd "$DEST"
if ! "$CUBE" doctor --workshop; then
  echo
  echo "cube: this laptop is not ready (see FAIL above); paste the last line into the workshop chat"
  exit 1
fi
echo
echo "Ready. Start the course with:  cd \"$DEST\" && .venv/bin/cube lab"
"""

_COMMAND = """#!/bin/sh
# macOS: double-click to run START-HERE.sh in Terminal.
cd "$(dirname "$0")" && exec sh ./START-HERE.sh
"""

_PS1 = r"""# cube workshop pack: sets this laptop up offline. In PowerShell:
#   powershell -ExecutionPolicy Bypass -File START-HERE.ps1
# The environment goes to $env:CUBE_WORKSHOP (default: ~\cube-workshop).
$ErrorActionPreference = "Stop"
$Pack = $PSScriptRoot
$Dest = if ($env:CUBE_WORKSHOP) { $env:CUBE_WORKSHOP } else { Join-Path $HOME "cube-workshop" }
$CubeWheel = "__CUBE_WHEEL__"
$PythonMin = "__PYTHON__"
$Plat = "windows-x86_64"
function Step($text) { Write-Host ""; Write-Host "== $text" }
function Check($code, $what) { if ($code -ne 0) { Write-Host "cube: $what failed (exit $code)"; exit 1 } }
if (-not (Test-Path (Join-Path $Pack "MANIFEST.$Plat"))) {
  Write-Host "cube: this pack was made without $Plat; ask the instructor for one that has it"; exit 2
}

Step "1/5 checking the pack's files for $Plat"
$bad = @()
foreach ($line in Get-Content (Join-Path $Pack "MANIFEST.$Plat")) {
  $hash, $rel = $line -split "  ", 2
  $file = Join-Path $Pack $rel
  if (-not (Test-Path -LiteralPath $file) -or
      (Get-FileHash -Algorithm SHA256 -LiteralPath $file).Hash.ToLower() -ne $hash) { $bad += $rel }
}
if ($bad.Count -gt 0) {
  Write-Host "cube: damaged or missing: $($bad -join ', '); copy the pack again"; exit 2
}

$Uv = Join-Path $Pack "uv\$Plat\uv.exe"
$env:UV_OFFLINE = "1"; $env:UV_NO_CONFIG = "1"; $env:UV_PYTHON_DOWNLOADS = "never"
Step "2/5 finding Python $PythonMin"
$Py = & $Uv python find $PythonMin 2>$null
if ($LASTEXITCODE -ne 0) {
  Write-Host "cube: no Python $PythonMin on this laptop; install one from python.org, then run START-HERE again"
  Write-Host "CUBE-STUCK $Plat failed=python"; exit 2
}
Write-Host $Py

Step "3/5 creating the environment in $Dest"
New-Item -ItemType Directory -Force -Path $Dest | Out-Null
& $Uv venv --quiet --allow-existing --python $Py (Join-Path $Dest ".venv"); Check $LASTEXITCODE "uv venv"

Step "4/5 installing from the pack (no network)"
& $Uv pip install --python (Join-Path $Dest ".venv") --offline --no-index --find-links (Join-Path $Pack "wheels") `
  --require-hashes -r (Join-Path $Pack "requirements\$Plat.txt"); Check $LASTEXITCODE "installing"
& $Uv pip install --python (Join-Path $Dest ".venv") --offline --no-index --no-deps --reinstall-package cube `
  (Join-Path $Pack "wheels\$CubeWheel"); Check $LASTEXITCODE "installing cube"
$Cube = Join-Path $Dest ".venv\Scripts\cube.exe"

Step "5/5 the course's cache, and a last check"
$Archive = Join-Path $Pack "cache\cube-cache.tar"
if (Test-Path $Archive) { & $Cube cache import $Archive; Check $LASTEXITCODE "cube cache import" }
Set-Location $Dest
& $Cube doctor --workshop
if ($LASTEXITCODE -ne 0) {
  Write-Host ""; Write-Host "cube: this laptop is not ready (see FAIL above); paste the last line into the workshop chat"; exit 1
}
Write-Host ""; Write-Host "Ready. Start the course with:  cd `"$Dest`"; .venv\Scripts\cube.exe lab"
"""

_GET_SH = r"""#!/bin/sh
# Copies the instructor's pack for this laptop from __URL__, then sets up offline.
set -eu
URL="__URL__"
DIR=${CUBE_PACK_DIR:-$HOME/cube-pack}
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLAT=linux-x86_64 ;;
  Linux-aarch64 | Linux-arm64) PLAT=linux-aarch64 ;;
  Darwin-arm64) PLAT=macos-arm64 ;;
  *) echo "cube: the pack has nothing for $(uname -s) $(uname -m)"; exit 2 ;;
esac
mkdir -p "$DIR" && cd "$DIR"
curl -fsS --retry 5 "$URL/MANIFEST.$PLAT" -o "MANIFEST.$PLAT"
if command -v sha256sum >/dev/null 2>&1; then sum() { sha256sum "$1" | cut -d' ' -f1; }
else sum() { shasum -a 256 "$1" | cut -d' ' -f1; }; fi
echo "copying the pack for $PLAT from $URL into $DIR"
while read -r hash path; do
  if [ -f "$path" ] && [ "$(sum "$path")" = "$hash" ]; then continue; fi
  mkdir -p "$(dirname "$path")"
  curl -fsS --retry 5 "$URL/$path" -o "$path"
done < "MANIFEST.$PLAT"
chmod +x "uv/$PLAT/uv" 2>/dev/null || true
exec sh ./START-HERE.sh
"""

_GET_PS1 = r"""# Copies the instructor's pack for this laptop from __URL__, then sets up offline.
$ErrorActionPreference = "Stop"
$ProgressPreference = "SilentlyContinue"
$Url = "__URL__"
$Dir = if ($env:CUBE_PACK_DIR) { $env:CUBE_PACK_DIR } else { Join-Path $HOME "cube-pack" }
$Plat = "windows-x86_64"
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
Set-Location $Dir
Invoke-WebRequest -UseBasicParsing "$Url/MANIFEST.$Plat" -OutFile "MANIFEST.$Plat"
Write-Host "copying the pack for $Plat from $Url into $Dir"
foreach ($line in Get-Content "MANIFEST.$Plat") {
  $hash, $rel = $line -split "  ", 2
  $file = Join-Path $Dir $rel
  if ((Test-Path -LiteralPath $file) -and
      (Get-FileHash -Algorithm SHA256 -LiteralPath $file).Hash.ToLower() -eq $hash) { continue }
  New-Item -ItemType Directory -Force -Path (Split-Path $file) | Out-Null
  Invoke-WebRequest -UseBasicParsing "$Url/$rel" -OutFile $file
}
& (Join-Path $Dir "START-HERE.ps1")
"""

README = """cube workshop pack
==================

Made with cube {cube} on {made} ({made_on}). Every file's SHA-256 is in MANIFEST.

On each learner's laptop, with no network needed:

  Linux, macOS   in a terminal, in this folder:   sh START-HERE.sh
                 (macOS: or double-click START-HERE.command)
  Windows        in PowerShell, in this folder:   powershell -ExecutionPolicy Bypass -File START-HERE.ps1

It checks the pack's files, creates the environment in ~/cube-workshop, installs from wheels/,
imports the course's cache and runs `cube doctor --workshop`, whose last line (CUBE-READY or
CUBE-STUCK) goes into the workshop chat. Learners need Python {python} already installed.

Or serve this folder on the room's network:  cube pack --serve <this folder>

course/handouts/   every notebook run at full size, as HTML: the fallback for a laptop that fails
course/instructor/ the same with every exercise's solution run
course/notebooks/  the learners' notebooks (solutions/ beside them)
"""


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace(f"__{key.upper()}__", value)
    return template


def write(folder: Path, meta: dict) -> None:
    """The start scripts and README.txt for a pack described by ``meta`` (its pack.json)."""
    values = {"cube_wheel": meta["cube_wheel"], "python": meta["python"]}
    for name, template, mode in (
        ("START-HERE.sh", _SH, 0o755),
        ("START-HERE.command", _COMMAND, 0o755),
        ("START-HERE.ps1", _PS1, 0o644),
    ):
        path = folder / name
        path.write_text(_fill(template, **values), encoding="utf-8", newline="\n")
        path.chmod(mode)
    (folder / "README.txt").write_text(README.format(**meta), encoding="utf-8")


def served(url: str) -> dict[str, bytes]:
    """``get.sh`` and ``get.ps1`` for a pack served at ``url``."""
    return {
        "get.sh": _fill(_GET_SH, url=url).encode(),
        "get.ps1": _fill(_GET_PS1, url=url).encode(),
    }
