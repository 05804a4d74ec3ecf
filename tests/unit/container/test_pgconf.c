/* server/pgconf: which database the environment names, and libpq's conninfo for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/container/pgconf.h"

static wh_db_kind_t derive(char **envp, char *out, size_t cap)
{
    return wh_pgconf_from_env(envp, out, cap);
}

static void test_no_database_is_sqlite(void **state)
{
    (void)state;
    char out[WH_CONNINFO_MAX];
    char *envp[] = {"HOME=/root", "DATABASE_URLX=postgres://x/y", NULL};
    assert_int_equal(derive(envp, out, sizeof(out)), WH_DB_NONE);
    assert_string_equal(out, "");
    char *empty[] = {"DATABASE_URL=", NULL};
    assert_int_equal(derive(empty, out, sizeof(out)), WH_DB_NONE);
    assert_int_equal(derive(NULL, out, sizeof(out)), WH_DB_NONE);
}

static void test_postgres_url_schemes(void **state)
{
    (void)state;
    char out[WH_CONNINFO_MAX];
    char *a[] = {"DATABASE_URL=postgres://u:p@db:5433/app?sslmode=disable", NULL};
    assert_int_equal(derive(a, out, sizeof(out)), WH_DB_POSTGRES);
    assert_string_equal(out, "postgresql://u:p@db:5433/app?sslmode=disable");
    char *b[] = {"DATABASE_URL=postgresql://db/app", NULL};
    assert_int_equal(derive(b, out, sizeof(out)), WH_DB_POSTGRES);
    assert_string_equal(out, "postgresql://db/app");
    /* dj-database-url's other spellings, which libpq does not know. */
    char *c[] = {"DATABASE_URL=pgsql://db/app", NULL};
    assert_int_equal(derive(c, out, sizeof(out)), WH_DB_POSTGRES);
    assert_string_equal(out, "postgresql://db/app");
    char *d[] = {"DATABASE_URL=POSTGIS://db/geo", NULL};
    assert_int_equal(derive(d, out, sizeof(out)), WH_DB_POSTGRES);
    assert_string_equal(out, "postgresql://db/geo");
    /* A Unix socket directory, percent-encoded as dj-database-url and libpq both accept. */
    char *e[] = {"DATABASE_URL=postgres://%2Fvar%2Frun%2Fpostgresql/app", NULL};
    assert_int_equal(derive(e, out, sizeof(out)), WH_DB_POSTGRES);
    assert_string_equal(out, "postgresql://%2Fvar%2Frun%2Fpostgresql/app");
}

static void test_other_databases(void **state)
{
    (void)state;
    char out[WH_CONNINFO_MAX];
    char *a[] = {"DATABASE_URL=sqlite:////data/db.sqlite3", "PGHOST=db", NULL};
    assert_int_equal(derive(a, out, sizeof(out)), WH_DB_OTHER);
    assert_string_equal(out, "");
    char *b[] = {"DATABASE_URL=mysql://u@db/app", NULL};
    assert_int_equal(derive(b, out, sizeof(out)), WH_DB_OTHER);
    char *c[] = {"DATABASE_URL=postgres:/missing-slash", NULL};
    assert_int_equal(derive(c, out, sizeof(out)), WH_DB_OTHER);
}

static void test_pg_variables(void **state)
{
    (void)state;
    char out[WH_CONNINFO_MAX] = "garbage";
    char *a[] = {"PGHOST=db", "PGUSER=app", NULL};
    assert_int_equal(derive(a, out, sizeof(out)), WH_DB_POSTGRES);
    assert_string_equal(out, ""); /* libpq reads PG* itself */
    char *b[] = {"PGDATABASE=app", NULL};
    assert_int_equal(derive(b, out, sizeof(out)), WH_DB_POSTGRES);
    char *c[] = {"PGSERVICE=web", NULL};
    assert_int_equal(derive(c, out, sizeof(out)), WH_DB_POSTGRES);
    /* PGUSER or PGPORT alone name no server. */
    char *d[] = {"PGUSER=app", "PGPORT=5433", "PGHOST=", NULL};
    assert_int_equal(derive(d, out, sizeof(out)), WH_DB_NONE);
}

static void test_too_long(void **state)
{
    (void)state;
    char out[32];
    char *a[] = {"DATABASE_URL=postgres://user:password@a-long-host-name/db", NULL};
    assert_int_equal(derive(a, out, sizeof(out)), WH_DB_INVALID);
    assert_string_equal(out, "");
    char fits[64];
    assert_int_equal(derive(a, fits, sizeof(fits)), WH_DB_POSTGRES);
    assert_int_equal(derive(a, fits, 0), WH_DB_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_database_is_sqlite),
        cmocka_unit_test(test_postgres_url_schemes),
        cmocka_unit_test(test_other_databases),
        cmocka_unit_test(test_pg_variables),
        cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
