# Installs what Crier's build, run and tests need and are missing; sourced by scripts/run and
# scripts/test. Everything comes from crates, npm, PyPI (pip, into a virtualenv) or apt, as those
# registries' packages: no tool downloads a binary of its own (a browser build, a wasm-opt).
#
#   crier_bootstrap run      # toolchain target, cargo-leptos, wasm-bindgen-cli, PostgreSQL
#   crier_bootstrap test     # the same, plus Chromium, the end2end node modules and, in
#                            # CRIER_VENV, openapi-spec-validator (server/tests/openapi.rs) and
#                            # moto, the S3-compatible server the media store's tests run against
#   crier_bootstrap release  # run's, plus wasm-opt for release builds (binaryen, an end2end node
#                            # module: Debian's is too old) on PATH (scripts/wasm-size)
#   crier_bootstrap bench    # release's, plus wrk and curl (scripts/bench-pages)

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs rustc 1.96
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
MOTO_VERSION=5.2.6
AIOSMTPD_VERSION=1.4.6
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The test tools written in Python live in their own virtualenv, never in the system's Python.
CRIER_VENV="${HOME}/.cache/crier/venv"
# What server/tests/openapi.rs runs on the served OpenAPI document (scripts/test exports it).
CRIER_OPENAPI_VALIDATOR="${CRIER_VENV}/bin/openapi-spec-validator"

say() { printf '\033[1mcrier:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Tools are built in their own target dir so they never invalidate the project's build.
install_crate() {
    CARGO_TARGET_DIR="${HOME}/.cache/crier/tools-target" cargo install "$@"
}

wasm_bindgen_version() {
    # The CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "${REPO_ROOT}/Cargo.lock"
}

have_postgres() {
    { command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; } || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

# `python3 -m venv` needs ensurepip, which Debian ships apart from Python, in python3-venv.
have_python_venv() {
    command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null
}

have_python_tools() {
    [ "$("${CRIER_OPENAPI_VALIDATOR}" --version 2>/dev/null | awk '{print $2}')" = "${OPENAPI_SPEC_VALIDATOR_VERSION}" ] \
        && [ "$("${CRIER_VENV}/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" = "${MOTO_VERSION}" ] \
        && [ -x "${CRIER_VENV}/bin/moto_server" ] \
        && [ "$("${CRIER_VENV}/bin/python" -c 'import importlib.metadata as m; print(m.version("aiosmtpd"))' 2>/dev/null)" = "${AIOSMTPD_VERSION}" ]
}

apt_install() {
    local packages=("$@")
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        say "installing ${packages[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    else
        die "please install ${packages[*]}, e.g.: sudo apt-get install -y ${packages[*]}"
    fi
}

crier_bootstrap() {
    local purpose="$1"
    command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"

    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
        || { say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown; }

    if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "${CARGO_LEPTOS_VERSION}" ]; then
        say "installing cargo-leptos ${CARGO_LEPTOS_VERSION} (once; takes a while)"
        install_crate cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked
    fi

    local bindgen
    bindgen="$(wasm_bindgen_version)"
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "${bindgen}" ]; then
        say "installing wasm-bindgen-cli ${bindgen}"
        # Not --locked: its lock file names a webpki-roots version the registry no longer serves.
        install_crate wasm-bindgen-cli --version "${bindgen}"
    fi

    local packages=()
    have_postgres || packages+=(postgresql)
    if [ "${purpose}" = test ]; then
        [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || packages+=(chromium)
        have_python_tools || have_python_venv || packages+=(python3 python3-venv)
    fi
    if [ "${purpose}" = bench ]; then
        command -v wrk >/dev/null || packages+=(wrk)
        command -v curl >/dev/null || packages+=(curl)
    fi
    [ "${#packages[@]}" -eq 0 ] || apt_install "${packages[@]}"

    case "${purpose}" in
        test) install_node_modules; install_python_tools ;;
        release | bench) install_node_modules; put_wasm_opt_on_path ;;
    esac
}

# The end2end node modules: Playwright for the browser tests, binaryen's wasm-opt for release builds.
install_node_modules() {
    command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer"
    if [ ! -d "${REPO_ROOT}/end2end/node_modules/@playwright/test" ] \
        || [ ! -d "${REPO_ROOT}/end2end/node_modules/binaryen" ] \
        || [ "${REPO_ROOT}/end2end/package-lock.json" -nt "${REPO_ROOT}/end2end/node_modules/.package-lock.json" ]; then
        say "installing the end2end node modules"
        (cd "${REPO_ROOT}/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# The Python test tools at their pinned versions in CRIER_VENV, which is made (again) when it is
# missing or its Python is gone: openapi-spec-validator, moto's S3 server (server mode only;
# crier-media's test_s3 starts it) and aiosmtpd, the SMTP server crier-mail's test_smtp starts.
install_python_tools() {
    have_python_tools && return
    say "installing openapi-spec-validator ${OPENAPI_SPEC_VALIDATOR_VERSION}, moto ${MOTO_VERSION} and aiosmtpd ${AIOSMTPD_VERSION} in ${CRIER_VENV}"
    "${CRIER_VENV}/bin/python" -m pip --version >/dev/null 2>&1 || python3 -m venv --clear "${CRIER_VENV}"
    "${CRIER_VENV}/bin/python" -m pip install --quiet --disable-pip-version-check \
        "openapi-spec-validator==${OPENAPI_SPEC_VALIDATOR_VERSION}" "moto[server]==${MOTO_VERSION}" "aiosmtpd==${AIOSMTPD_VERSION}"
    have_python_tools || die "openapi-spec-validator, moto or aiosmtpd is not in ${CRIER_VENV} at its pinned version after installing them"
}

# cargo-leptos runs the first `wasm-opt` on PATH for release builds (and would download one when
# there is none): binaryen's npm package ships one (run by Node), which goes first on PATH.
put_wasm_opt_on_path() {
    export PATH="${REPO_ROOT}/end2end/node_modules/.bin:${PATH}"
    local version
    version="$(wasm-opt --version 2>/dev/null | awk '{print $3}')"
    [ "${version:-0}" -ge 117 ] 2>/dev/null || die "wasm-opt ${version:-not found} on PATH; release builds need binaryen 117 or newer"
}

# Prints the size and gzip -9 size of site assets (paths under the site root, e.g. /pkg/crier.wasm)
# and of the JS they import (wasm-bindgen snippets), and sets SHIPPED_WASM, SHIPPED_JS and
# SHIPPED_TOTAL (gzipped bytes).
crier_shipped_sizes() {
    local site="$1" asset file imported
    shift
    local assets=("$@")
    for asset in "$@"; do
        case "${asset}" in *.js)
            while read -r imported; do assets+=("$(dirname "${asset}")/${imported#./}"); done \
                < <(grep -o "from *['\"]\./[^'\"]*['\"]" "${site}${asset}" | sed "s/^from *['\"]//; s/['\"]$//" || true) ;;
        esac
    done
    SHIPPED_WASM=0 SHIPPED_JS=0
    for asset in "${assets[@]}"; do
        file="${site}${asset}"
        [ -f "${file}" ] || die "${asset} is not in ${site}"
        local size
        size="$(gzip -9 -c "${file}" | wc -c)"
        case "${asset}" in *.wasm) SHIPPED_WASM=$((SHIPPED_WASM + size)) ;; *) SHIPPED_JS=$((SHIPPED_JS + size)) ;; esac
        printf '  %-28s %9d bytes  %8d gzipped\n' "${asset}" "$(stat -c %s "${file}")" "${size}"
    done
    SHIPPED_TOTAL=$((SHIPPED_WASM + SHIPPED_JS))
    printf '  wasm %d + JS %d = %d bytes gzipped (%s KiB)\n' "${SHIPPED_WASM}" "${SHIPPED_JS}" "${SHIPPED_TOTAL}" \
        "$(awk -v t="${SHIPPED_TOTAL}" 'BEGIN { printf "%.1f", t / 1024 }')"
}

# Where cargo builds: CARGO_TARGET_DIR when set, else target/ in the clone.
crier_target_dir() {
    echo "${CARGO_TARGET_DIR:-${REPO_ROOT}/target}"
}

# Every build of a test binary leaves a new executable (200–400 MB in a debug build) beside the
# earlier ones, and cargo never removes them: a target directory reused run after run (as CI's is)
# fills the disk. Keeps the newest executable built from each source file (the first one its
# dep-info names, relative to the workspace: `server/tests/notify.rs` and `domain/tests/notify.rs`
# are two binaries both called `notify-…`), removes the older ones.
prune_old_test_binaries() {
    local deps exe source
    deps="$(crier_target_dir)/debug/deps"
    [ -d "${deps}" ] || return 0
    find "${deps}" -maxdepth 1 -type f -executable -regextype posix-extended -regex '.*/[^./]+-[0-9a-f]{16}' -printf '%T@ %p\n' \
        | sort -rn \
        | while read -r _ exe; do
            source="$(head -n 1 "${exe}.d" 2>/dev/null | awk '{ print $2 }')"
            echo "${source:-${exe##*/}} ${exe}"
        done \
        | awk '{ if (seen[$1]++) print $2 }' \
        | xargs -r rm -f
}
