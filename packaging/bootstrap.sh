#!/usr/bin/env bash
# smsdesk set-up on a fresh Debian 12 (or Ubuntu) machine that has only Python 3.11+ on it.
#
#   bash packaging/bootstrap.sh app  [smsdesk-gui args...]   install what is needed, start the app
#   bash packaging/bootstrap.sh test [pytest args...]        install what is needed, run all tests
#
# Both commands are idempotent and quick to repeat: system packages are only installed when
# dpkg says one is missing (and `apt-get update` only runs when apt has no package lists or an
# install failed), and pip only runs when pyproject.toml or the Python version changed.
# Runs as root, or as a normal user with sudo for the apt step.
#
# Why each system package is needed: see the comments on the PKGS_* lists below (Qt's offscreen
# and xcb platforms name their libraries only at run time; the keyring test needs a real
# Secret Service in a D-Bus session).
# `test` runs pytest inside `dbus-run-session` with a throwaway HOME/XDG_RUNTIME_DIR and a
# gnome-keyring-daemon unlocked with a random password, so the real Secret Service test runs
# (SMSDESK_REAL_KEYRING=1). dbus-x11 is never installed: it makes every xcb Qt app start a
# session bus that outlives it.
#
# Environment: PYTHON=/path/to/python picks the interpreter (default: the first of python3.13,
# python3.12, python3 that is 3.11-3.13); SMSDESK_SKIP_APT=1 skips the system-package step.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/packaging/bootstrap.sh"
VENV="$ROOT/.venv"
STAMP="$VENV/.smsdesk-bootstrap"

# Qt's offscreen platform (tests, screenshots) on a minimal Debian 12 root.
PKGS_QT_OFFSCREEN=(libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3)
# Qt's xcb platform (a real desktop, or Xvfb). A missing libxcb-icccm4 makes Qt wrongly blame
# libxcb-cursor0, so the whole list matters.
PKGS_QT_XCB=(libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
    libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxcb-randr0
    libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libx11-xcb1 xvfb xauth)
# A real Secret Service for the keyring test. gnome-keyring needs *a* session-bus provider;
# naming dbus-user-session pins apt's choice so it can never pick dbus-x11.
PKGS_TEST=(dbus-daemon dbus-user-session gnome-keyring)
# A PostgreSQL server for the team-workspace tests. The tests start their own throwaway server
# in a temporary folder; the package must not create and start a cluster of its own on install
# (see no_auto_cluster).
PKGS_PG=(postgresql)

log() { printf '[bootstrap %4ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '\nbootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    cat >&2 <<'EOF'
usage: bash packaging/bootstrap.sh app  [smsdesk-gui args...]
       bash packaging/bootstrap.sh test [pytest args...]

  app   install system libraries Qt needs and the Python environment (.venv), then start
        the smsdesk window (under Xvfb when there is no display)
  test  the same plus Xvfb, D-Bus and gnome-keyring, then run the whole test suite
EOF
}

# ---- Python ---------------------------------------------------------------------------------
py_ok() {  # is "$1" a working Python that smsdesk supports (3.11 to 3.13)?
    "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' \
        >/dev/null 2>&1
}

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        py_ok "$PYTHON" || die "PYTHON=$PYTHON is not a working Python 3.11 to 3.13."
        PY="$PYTHON"
        return
    fi
    local c
    # pyenv shims exist for versions that are not enabled and fail when run, so try each one.
    for c in python3.13 python3.12 python3; do
        if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then
            PY="$(command -v "$c")"
            return
        fi
    done
    die "smsdesk needs Python 3.11, 3.12 or 3.13 (tried python3.13, python3.12, python3).
Install one (Debian 12: apt-get install python3 python3-venv) or set PYTHON=/path/to/python."
}

# A venv made while ensurepip was missing has a python but no pip: treat it as broken.
venv_ok() {
    [[ -x "$VENV/bin/python" ]] && py_ok "$VENV/bin/python" \
        && "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1
}

# ---- system packages ------------------------------------------------------------------------
missing_pkgs() {  # prints the packages of "$@" that dpkg does not list as installed
    local p status
    for p in "$@"; do
        status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
        [[ "$status" == ii* ]] || printf '%s\n' "$p"
    done
}

apt_lists_present() {
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

ensure_system_pkgs() {
    local want=("$@") missing sudo=()
    if [[ "${SMSDESK_SKIP_APT:-}" == 1 ]]; then
        log "SMSDESK_SKIP_APT=1: not checking system packages"
        return
    fi
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        log "not a Debian/Ubuntu system: install these yourself if Qt fails to start: ${want[*]}"
        return
    fi
    mapfile -t missing < <(missing_pkgs "${want[@]}")
    if ((${#missing[@]} == 0)); then
        log "system packages: all ${#want[@]} already installed"
        return
    fi
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "these system packages are missing and this is not
root and sudo is not installed: ${missing[*]}
Run as root: apt-get install --no-install-recommends ${missing[*]}"
        sudo=(sudo)
    fi
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    log "installing ${#missing[@]} system package(s): ${missing[*]}"
    local updated=0
    if ! apt_lists_present; then
        log "apt has no package lists yet: apt-get update"
        "${apt[@]}" update -q || die "apt-get update failed (network or sources.list?)"
        updated=1
    fi
    if ! "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}"; then
        ((updated == 0)) || die "apt-get install failed: ${missing[*]}"
        # Stale lists name package versions the mirror no longer has: refresh once and retry.
        log "apt-get install failed; refreshing package lists and retrying once"
        "${apt[@]}" update -q || die "apt-get update failed (network or sources.list?)"
        "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" \
            || die "apt-get install failed: ${missing[*]}"
    fi
    mapfile -t missing < <(missing_pkgs "${want[@]}")
    if ((${#missing[@]})); then  # e.g. Ubuntu 24.04 renamed libglib2.0-0 to libglib2.0-0t64
        log "note: apt-get succeeded but dpkg does not list (renamed?): ${missing[*]}"
    fi
    if [[ -z "$(missing_pkgs dbus-x11)" ]]; then  # empty output = it is installed
        log "note: dbus-x11 is installed (not by this script); Qt apps may leave session buses behind"
    fi
    log "system packages: installed"
}

# ---- Python environment ---------------------------------------------------------------------
venv_pkg_for() {  # Debian's own python3 has no ensurepip unless python3.X-venv is installed
    if ! "$1" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        "$1" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])'
    fi
}

ensure_venv() {
    if [[ -e "$VENV" ]] && ! venv_ok; then
        log "$VENV is broken or uses an unsupported Python: recreating it"
        rm -rf -- "$VENV"
    fi
    if [[ ! -e "$VENV" ]]; then
        log "creating $VENV with $PY ($("$PY" -V 2>&1))"
        "$PY" -m venv "$VENV" || die "could not create $VENV with $PY"
    fi
    local want
    want="$(cd "$ROOT" && sha256sum pyproject.toml | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
        && "$VENV/bin/python" -c 'import smsdesk, PySide6, qasync, pytest, pytestqt' >/dev/null 2>&1 \
        && [[ -x "$VENV/bin/ruff" && -x "$VENV/bin/mypy" ]]
    then
        log "Python environment: up to date ($("$VENV/bin/python" -V 2>&1), $VENV)"
        return
    fi
    local pip=("$VENV/bin/python" -m pip install --disable-pip-version-check)
    if [[ "${CI:-}" == true ]]; then pip+=(--progress-bar off); fi
    log "installing smsdesk and its Python dependencies into $VENV (first run downloads ~200 MB)"
    # The ngrok extra (public tunnel) is optional: a platform without its wheel still gets
    # a working app and test suite.
    if ! (cd "$ROOT" && "${pip[@]}" -e '.[test,lint,ngrok]'); then
        log "the optional ngrok extra could not be installed; continuing without tunnels"
        (cd "$ROOT" && "${pip[@]}" -e '.[test,lint]') || die "pip install -e '.[test,lint]' failed"
    fi
    printf '%s' "$want" >"$STAMP"
    log "Python environment: ready ($("$VENV/bin/python" -V 2>&1))"
}

no_auto_cluster() {  # before installing postgresql: no "main" cluster started by the package
    [[ "${SMSDESK_SKIP_APT:-}" == 1 ]] && return
    command -v dpkg-query >/dev/null 2>&1 || return
    [[ -z "$(missing_pkgs postgresql)" ]] && return  # installed already: nothing to prevent
    local dir=/etc/postgresql-common/createcluster.d sudo=()
    ((EUID == 0)) || sudo=(sudo)
    # Debian's createcluster.conf includes this folder; the setting stops apt from creating one.
    "${sudo[@]}" mkdir -p "$dir" \
        && printf 'create_main_cluster = false\n' | "${sudo[@]}" tee "$dir/smsdesk-test.conf" >/dev/null \
        || log "could not write $dir/smsdesk-test.conf; the postgresql package may start a cluster of its own"
}

prepare() {  # $1 = app|test
    pick_python
    log "using $PY ($("$PY" -V 2>&1))"
    local pkgs=("${PKGS_QT_OFFSCREEN[@]}" "${PKGS_QT_XCB[@]}")
    if [[ "$1" == test ]]; then
        pkgs+=("${PKGS_TEST[@]}" "${PKGS_PG[@]}")
        no_auto_cluster
    fi
    if ! venv_ok; then
        local vp
        vp="$(venv_pkg_for "$PY")"
        if [[ -n "$vp" ]]; then pkgs+=("$vp"); fi
    fi
    ensure_system_pkgs "${pkgs[@]}"
    ensure_venv
}

# ---- app --------------------------------------------------------------------------------------
cmd_app() {
    prepare app
    log "set-up done in ${SECONDS} s; starting smsdesk"
    if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
        if command -v xvfb-run >/dev/null 2>&1; then
            printf '%s\n' \
                "bootstrap: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so smsdesk" \
                "bootstrap: starts on a virtual X display (Xvfb): it runs, but you will not see" \
                "bootstrap: the window. Run this from a desktop session to use it; Ctrl+C stops it." >&2
            exec xvfb-run -a -s "-screen 0 1280x800x24" "$VENV/bin/smsdesk-gui" "$@"
        fi
        printf '%s\n' "bootstrap: no display and no xvfb-run: starting Qt offscreen (invisible)." >&2
        export QT_QPA_PLATFORM=offscreen
    fi
    exec "$VENV/bin/smsdesk-gui" "$@"
}

# ---- test -------------------------------------------------------------------------------------
guards() {  # lint, format and type checks: what CI calls "clean" is what these say
    if [[ "${SMSDESK_SKIP_GUARDS:-}" == 1 ]]; then
        log "SMSDESK_SKIP_GUARDS=1: not running ruff and mypy"
        return
    fi
    local t0=$SECONDS
    log "guards: ruff check, ruff format --check, mypy (SMSDESK_SKIP_GUARDS=1 skips them)"
    (cd "$ROOT" && "$VENV/bin/ruff" check --no-cache smsdesk tests bench) \
        || die "ruff found problems (above); 'ruff check --fix' mends many of them"
    (cd "$ROOT" && "$VENV/bin/ruff" format --no-cache --check smsdesk tests bench) \
        || die "some files are not formatted: run '.venv/bin/ruff format smsdesk tests bench'"
    (cd "$ROOT" && "$VENV/bin/mypy" smsdesk) || die "mypy found type errors (above)"
    log "guards passed in $((SECONDS - t0)) s"
}

cmd_test() {
    prepare test
    guards
    local t0=$SECONDS tmp rc
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-test.XXXXXX")"
    # shellcheck disable=SC2064 # expand now: $tmp is local
    trap "rm -rf -- '$tmp'" EXIT
    mkdir -m 700 "$tmp/home" "$tmp/run"
    # A throwaway HOME and runtime dir: the tests never see (or write to) a person's keyring,
    # settings or data, and keyring's env override cannot redirect the real-keyring test.
    local env=(env -u DBUS_SESSION_BUS_ADDRESS -u PYTHON_KEYRING_BACKEND -u SMSDESK_HOME
        -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u XDG_CACHE_HOME -u XDG_STATE_HOME
        HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run" QT_QPA_PLATFORM=offscreen)
    set +e
    if command -v dbus-run-session >/dev/null 2>&1 \
        && command -v gnome-keyring-daemon >/dev/null 2>&1; then
        log "running the test suite in a private D-Bus session with gnome-keyring (HOME=$tmp/home)"
        log "(dbus-daemon may print 'Failed to set fd limit' in a container: harmless)"
        "${env[@]}" SMSDESK_REAL_KEYRING=1 dbus-run-session -- bash "$SELF" __in-session "$@"
    elif [[ "${CI:-}" == true ]]; then
        # In CI a skipped real-keyring test would pass unnoticed: the Secret Service path
        # would go untested. Say what is missing and stop.
        local missing=()
        command -v dbus-run-session >/dev/null 2>&1 || missing+=("dbus-run-session (package dbus-daemon)")
        command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=("gnome-keyring-daemon (package gnome-keyring)")
        die "CI=true but ${missing[*]} is missing, so the real Secret Service test cannot run.
Install them (apt-get install --no-install-recommends dbus-daemon dbus-user-session gnome-keyring),
or unset SMSDESK_SKIP_APT so this script installs them."
    else
        log "WARNING: dbus-run-session or gnome-keyring-daemon is missing: the real-keyring"
        log "WARNING: test is skipped (install dbus-daemon and gnome-keyring to run it;"
        log "WARNING: with CI=true this is an error)"
        (cd "$ROOT" && "${env[@]}" "$VENV/bin/python" -m pytest "$@")
    fi
    rc=$?
    set -e
    local took=$((SECONDS - t0))
    case $rc in
        0) log "tests passed in ${took} s (total ${SECONDS} s)" ;;
        5) log "pytest collected no tests (exit 5): check the arguments or the tests/ tree"
           rc=1 ;;
        *) log "tests FAILED (exit $rc) after ${took} s (total ${SECONDS} s)"
           if ((rc > 128)); then
               log "pytest itself died from signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null)):" \
                   "the 'Fatal Python error' traceback above shows where"
           fi ;;
    esac
    return "$rc"
}

in_session() {  # inside dbus-run-session: unlock a throwaway keyring, then run pytest
    local pw out line
    pw="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    # --unlock reads the password from stdin and creates the "login" keyring in the temp HOME;
    # it may print GNOME_KEYRING_* variables that clients use.
    if out="$(printf '%s' "$pw" | gnome-keyring-daemon --unlock --components=secrets)"; then
        while IFS= read -r line; do
            if [[ "$line" =~ ^[A-Z_][A-Z0-9_]*= ]]; then export "${line?}"; fi
        done <<<"$out"
    else
        [[ "${CI:-}" == true ]] && die "CI=true and gnome-keyring-daemon did not start: the real Secret Service test cannot run"
        log "WARNING: gnome-keyring-daemon did not start; the real-keyring test will fail"
    fi
    cd "$ROOT"
    "$VENV/bin/python" -m pytest "$@"
}

main() {
    local cmd="${1:-}"
    (($#)) && shift
    case "$cmd" in
        app) cmd_app "$@" ;;
        test) cmd_test "$@" ;;
        __in-session) in_session "$@" ;;
        -h|--help|help) usage ;;
        *) usage; exit 2 ;;
    esac
}

# Sourcing the file (for checking its functions) defines them without running anything.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
