#!/usr/bin/env bash
# Entrypoint of the postgres stand-in: the official image's behaviour, in brief.
set -Eeuo pipefail

[[ ${1:-} == -* ]] && set -- postgres "$@"
[[ ${1:-} == postgres ]] || exec "$@"

if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA"
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    if [[ -z ${POSTGRES_PASSWORD:-} && $auth != trust ]]; then
        echo 'Error: the database is uninitialized and no superuser password is set.' >&2
        echo '  Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, which allows anyone in).' >&2
        exit 1
    fi
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of arguments, as upstream
    if [[ -n ${POSTGRES_PASSWORD:-} ]]; then
        initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") ${POSTGRES_INITDB_ARGS:-}
    else
        initdb --username="$POSTGRES_USER" ${POSTGRES_INITDB_ARGS:-}
    fi
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    # A temporary server on the unix socket only, for the database and the init scripts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    export PGUSER=$POSTGRES_USER PGPASSWORD=${POSTGRES_PASSWORD:-}
    psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --dbname postgres)
    if [[ $POSTGRES_DB != postgres ]]; then
        "${psql[@]}" -q --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) [[ -e $f ]] && echo "ignoring $f" ;;
        esac
    done
    unset PGPASSWORD
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
