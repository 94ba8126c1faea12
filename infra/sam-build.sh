#!/usr/bin/env bash
# `sam build` with the project-local tools (cargo-lambda, Zig, SAM CLI from .local/deploy), then a
# check that the artifact is what Lambda's provided.al2023 arm64 runtime runs: an aarch64 ELF
# named bootstrap.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/infra/setup.sh" deploy
export PATH="$root/.local/deploy/bin:$PATH" SAM_CLI_TELEMETRY=0
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu
echo "==> sam build (release, arm64; first build: several minutes)" >&2
sam build "$@"
# The three functions; the reconciler exists unless ReconcileEveryMinutes=0 or LiveViews=off,
# the wallboard unless Wallboard=off or LiveViews=off.
python3 - .aws-sam/build/ContactStateFunction/bootstrap .aws-sam/build/ReconcilerFunction/bootstrap \
  .aws-sam/build/WallboardFunction/bootstrap <<'PY'
import io, os, struct, sys, zipfile
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        header = f.read(20)
    machine = struct.unpack_from("<H", header, 18)[0]
    if header[:4] != b"\x7fELF" or machine != 183:  # EM_AARCH64
        sys.exit(f"{path}: not an aarch64 ELF executable")
    # The deployment package is this file zipped (deflate, as `sam deploy` packages it).
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, "bootstrap")
    zipped = len(package.getvalue())
    print(f"==> {path}: aarch64 ELF, {os.path.getsize(path) / 1e6:.1f} MB, {zipped / 1e6:.2f} MB zipped",
          file=sys.stderr)
    if zipped > 5_000_000:
        sys.exit(f"the deployment zip is {zipped / 1e6:.2f} MB: over the 5 MB budget (docs/performance.md)")
PY
