#!/usr/bin/env bash
# Stand-ins for the public base images, made from a Debian mirror, for builds where no registry
# is reachable (air-gapped machines, or this project's CI). They carry the real names, so the
# Dockerfiles and compose.yaml build and run unchanged:
#
#   debian:trixie-slim                    debootstrap --variant=minbase trixie, then slimmed the
#                                         way the official slim images are (debuerreotype-slimify)
#   gcr.io/distroless/cc-debian13[:nonroot]
#                                         the Debian 13 packages distroless's cc image is made of,
#                                         unpacked with dpkg -x (no dpkg database, no shell)
#   postgres:17-trixie                    Debian 13's postgresql-17 with an entrypoint honouring
#                                         the official image's POSTGRES_* variables (docker/postgres)
#   python:3.13-slim                      Debian 13's python3.13 moved to /usr/local as in the
#                                         official image: python, pip, a shared libpython
#                                         (docker/python)
#
#   docker/offline-bases.sh [--force] [slim|distroless|postgres|python]...   (default: all four)
#
# An image that already exists is kept unless --force (so real images, once pulled, win).
# Needs root, docker, debootstrap; reaches only the Debian mirror this machine's apt uses
# (MIRROR=URL overrides it). Images are built with --network host.
set -euo pipefail
cd "$(dirname "$0")"

SLIM=debian:trixie-slim
DISTROLESS=gcr.io/distroless/cc-debian13
POSTGRES=postgres:17-trixie
PYTHON=python:3.13-slim

force=0
targets=()
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        slim | distroless | postgres | python) targets+=("$arg") ;;
        *) echo "usage: $0 [--force] [slim|distroless|postgres|python]..." >&2; exit 2 ;;
    esac
done
((${#targets[@]})) || targets=(slim distroless postgres python)

log() { printf 'offline-bases: %s\n' "$*" >&2; }
have() { ((force == 0)) && docker image inspect "$1" >/dev/null 2>&1; }

# The Debian mirrors this machine's apt uses (deb822 .sources or one-line sources.list).
apt_uris() {
    { awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
      awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' \
          /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
        grep -E '/debian(-security)?/?$' | awk '!seen[$0]++'
}
MIRROR=${MIRROR:-$(apt_uris | awk '!/-security/ {print; exit}')}
SECURITY=${SECURITY_MIRROR:-$(apt_uris | awk '/-security/ {print; exit}')}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SECURITY:-${MIRROR%/debian}/debian-security}

work=$(mktemp -d /var/tmp/offline-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- debian:trixie-slim ---------------------------------------------------------------------------
# What debuerreotype does for the official image: debootstrap minbase, the "minimizing" apt/dpkg
# configuration, the slim dpkg path excludes (applied now and kept for later installs), then a tar
# without apt lists, caches and logs.
make_slim() {
    have "$SLIM" && { log "$SLIM exists (--force rebuilds it)"; return; }
    command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y -qq debootstrap >/dev/null; }
    local root=$work/slim
    log "debootstrap --variant=minbase trixie from $MIRROR"
    debootstrap --variant=minbase trixie "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; log "debootstrap failed"; exit 1; }

    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # debuerreotype-minimizing-config
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
    local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<EOF
DPkg::Post-Invoke { $clean };
APT::Update::Post-Invoke { $clean };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"

    # debuerreotype-slimify: .slimify-excludes / .slimify-includes
    local excludes=(/usr/share/doc /usr/share/groff /usr/share/info /usr/share/linda
                    /usr/share/lintian/overrides /usr/share/locale /usr/share/man)
    local includes=(-path '/usr/share/doc/*/copyright' -o -path /usr/share/locale/locale.alias
                    -o -path /usr/share/locale/languages -o -path /usr/share/locale/all_languages)
    {
        echo '# This is the "slim" variant of the Debian base image.'
        echo '# Many files which are normally unnecessary in containers are excluded,'
        echo '# and this configuration file keeps them that way.'
        for d in "${excludes[@]}"; do echo "path-exclude $d/*"; done
        echo 'path-include /usr/share/doc/*/copyright'
        echo 'path-include /usr/share/locale/all_languages'
        echo 'path-include /usr/share/locale/languages'
        echo 'path-include /usr/share/locale/locale.alias'
    } >"$root/etc/dpkg/dpkg.cfg.d/docker"
    for d in "${excludes[@]}"; do
        [[ -d $root$d ]] || continue
        chroot "$root" find "$d" -depth -mindepth 1 -not \( "${includes[@]}" \) -not \( -type d -o -type l \) -delete
        while [[ -n $(chroot "$root" find "$d" -depth -mindepth 1 \( -empty -o -xtype l \) -print -delete) ]]; do :; done
    done

    # debuerreotype-tar's excludes, and what a fresh container does not need
    rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/apt/*.log \
        "$root"/var/cache/ldconfig/aux-cache "$root"/var/log/dpkg.log "$root"/var/log/bootstrap.log \
        "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
    find "$root/dev" -mindepth 1 -delete
    log "importing $SLIM ($(du -sm "$root" | cut -f1) MB)"
    tar --numeric-owner --xattrs -C "$root" -c . |
        docker import -c 'CMD ["bash"]' -m "offline stand-in: debootstrap minbase trixie, slimmed" - "$SLIM" >/dev/null
    rm -rf "$root"
}

# --- gcr.io/distroless/cc-debian13 ---------------------------------------------------------------
# distroless: static (base-files netbase tzdata tzdata-legacy media-types, CA bundle, passwd,
# group, nsswitch.conf, os-release, /tmp, /home/nonroot) + base (libc6 libssl3t64 libzstd1
# zlib1g) + cc (libgomp1 libstdc++6 libgcc-s1 gcc-14-base). Each package's data is unpacked
# with dpkg -x into a usr-merged root; its control file goes to /var/lib/dpkg/status.d/ as
# distroless does (for scanners), and there is no dpkg database, no shell, no package manager.
DISTROLESS_PACKAGES=(base-files netbase tzdata tzdata-legacy media-types
                     libc6 libssl3t64 libzstd1 zlib1g
                     gcc-14-base libgcc-s1 libgomp1 libstdc++6)
make_distroless() {
    have "$DISTROLESS" && have "$DISTROLESS:nonroot" && { log "$DISTROLESS exists (--force rebuilds it)"; return; }
    docker image inspect "$SLIM" >/dev/null 2>&1 || make_slim
    log "assembling $DISTROLESS from Debian 13 packages: ${DISTROLESS_PACKAGES[*]}"
    mkdir -p "$work/distroless"
    # Runs in Debian 13 itself, so that its apt and dpkg read the packages.
    docker run --rm --network host -v "$work/distroless:/out" -e PACKAGES="${DISTROLESS_PACKAGES[*]}" \
        "$SLIM" bash -euo pipefail -c '
        apt-get update -qq
        cd /out && mkdir debs root
        (cd debs && apt-get download -qq -o APT::Sandbox::User=root $PACKAGES ca-certificates)
        r=/out/root
        mkdir -p $r/usr/bin $r/usr/sbin $r/usr/lib $r/usr/lib64 $r/etc/ssl/certs \
            $r/var/lib/dpkg/status.d $r/home/nonroot $r/root $r/tmp
        for d in bin sbin lib lib64; do ln -s usr/$d $r/$d; done
        for pkg in $PACKAGES; do
            deb=$(ls debs/${pkg}_*.deb)
            mkdir x && dpkg-deb -x "$deb" x
            for d in bin sbin lib lib64; do   # usr-merge whatever still ships in /bin, /lib...
                if [ -d x/$d ] && [ ! -L x/$d ]; then cp -a x/$d/. $r/usr/$d/ && rm -rf x/$d; fi
            done
            cp -a x/. $r/ && rm -rf x
            dpkg-deb -f "$deb" >$r/var/lib/dpkg/status.d/$pkg
            dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./md5sums >$r/var/lib/dpkg/status.d/$pkg.md5sums 2>/dev/null || true
        done
        # distroless cacerts: the bundle and the copyright, not the package
        mkdir x && dpkg-deb -x debs/ca-certificates_*.deb x
        cat x/usr/share/ca-certificates/*/*.crt >$r/etc/ssl/certs/ca-certificates.crt
        mkdir -p $r/usr/share/doc/ca-certificates && cp x/usr/share/doc/ca-certificates/copyright $r/usr/share/doc/ca-certificates/
        rm -rf x
        printf "%s\n" "root:x:0:0:root:/root:/sbin/nologin" "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin" \
            "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin" >$r/etc/passwd
        printf "%s\n" "root:x:0:" "nobody:x:65534:" "tty:x:5:" "staff:x:50:" "nonroot:x:65532:" >$r/etc/group
        printf "%s\n" "passwd:         files" "group:          files" "shadow:         files" \
            "hosts:          files dns" "networks:       files" "protocols:      db files" \
            "services:       db files" "ethers:         db files" "rpc:            db files" >$r/etc/nsswitch.conf
        . $r/usr/lib/os-release
        printf "%s\n" "PRETTY_NAME=\"Distroless\"" "NAME=\"Debian GNU/Linux\"" "ID=\"debian\"" \
            "VERSION_ID=\"$VERSION_ID\"" "VERSION=\"Debian GNU/Linux $VERSION_ID ($VERSION_CODENAME)\"" \
            "HOME_URL=\"https://github.com/GoogleContainerTools/distroless\"" >$r/etc/os-release
        chmod 1777 $r/tmp && chmod 700 $r/root && chown 65532:65532 $r/home/nonroot
        # No shell and no package manager may come along with a package.
        for f in sh bash dash dpkg apt; do
            if [ -e $r/usr/bin/$f ]; then echo "distroless stand-in: $f must not be there" >&2; exit 1; fi
        done
        tar --numeric-owner -C $r -cf /out/rootfs.tar .
        rm -rf $r debs
    '
    log "importing $DISTROLESS ($(($(stat -c %s "$work/distroless/rootfs.tar") / 1000000)) MB)"
    local env=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
               -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt')
    docker import "${env[@]}" -c 'USER 0' -c 'WORKDIR /' -m "offline stand-in: distroless cc-debian13" \
        "$work/distroless/rootfs.tar" "$DISTROLESS:latest" >/dev/null
    docker import "${env[@]}" -c 'USER 65532' -c 'WORKDIR /home/nonroot' \
        -m "offline stand-in: distroless cc-debian13:nonroot" "$work/distroless/rootfs.tar" "$DISTROLESS:nonroot" >/dev/null
    rm -rf "$work/distroless"
}

# --- postgres:17-trixie --------------------------------------------------------------------------
make_postgres() {
    have "$POSTGRES" && { log "$POSTGRES exists (--force rebuilds it)"; return; }
    docker image inspect "$SLIM" >/dev/null 2>&1 || make_slim
    log "building $POSTGRES from Debian 13's postgresql-17 (docker/postgres)"
    DOCKER_BUILDKIT=0 docker build --force-rm --network host -t "$POSTGRES" postgres >"$work/postgres.log" 2>&1 ||
        { tail -30 "$work/postgres.log" >&2; log "building $POSTGRES failed"; exit 1; }
}

# --- python:3.13-slim ----------------------------------------------------------------------------
make_python() {
    have "$PYTHON" && { log "$PYTHON exists (--force rebuilds it)"; return; }
    docker image inspect "$SLIM" >/dev/null 2>&1 || make_slim
    log "building $PYTHON from Debian 13's python3.13, moved to /usr/local (docker/python)"
    DOCKER_BUILDKIT=0 docker build --force-rm --network host -t "$PYTHON" python >"$work/python.log" 2>&1 ||
        { tail -30 "$work/python.log" >&2; log "building $PYTHON failed"; exit 1; }
    # the relocation stage is not kept
    docker image prune -f --filter "label=wsgihost.stage=python-standin" >/dev/null
}

for t in "${targets[@]}"; do "make_$t"; done
docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep -E "^($SLIM|$DISTROLESS:|$POSTGRES|$PYTHON)" >&2 || true
