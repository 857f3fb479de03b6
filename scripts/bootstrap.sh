# Installs what Crier's build, run and tests need and are missing; sourced by scripts/run and
# scripts/test. Everything comes from crates, npm or apt: nothing downloads prebuilt binaries.
#
#   crier_bootstrap run    # toolchain target, cargo-leptos, wasm-bindgen-cli, PostgreSQL
#   crier_bootstrap test   # the same, plus Chromium and the end2end node modules

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs rustc 1.96
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

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
    fi
    [ "${#packages[@]}" -eq 0 ] || apt_install "${packages[@]}"

    if [ "${purpose}" = test ]; then
        command -v npm >/dev/null || die "npm not found: install Node.js 20 or newer"
        if [ ! -d "${REPO_ROOT}/end2end/node_modules/@playwright/test" ] \
            || [ "${REPO_ROOT}/end2end/package-lock.json" -nt "${REPO_ROOT}/end2end/node_modules/.package-lock.json" ]; then
            say "installing the end2end node modules"
            (cd "${REPO_ROOT}/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
        fi
    fi
}

# Where cargo builds: CARGO_TARGET_DIR when set, else target/ in the clone.
crier_target_dir() {
    echo "${CARGO_TARGET_DIR:-${REPO_ROOT}/target}"
}
