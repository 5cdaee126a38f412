"""psycopg against civhub's PostgreSQL endpoint (run by tests/it/serve_pg.rs).

Usage: pg_clients.py PORT. Users ana (analyst), cw (caseworker) exist with
passwords analyst-pass and casework-pass. Exits non-zero on the first failed
check, saying which.
"""

import sys

import psycopg

PORT = int(sys.argv[1])
Q = (
    "SELECT gid, id_number, name FROM population.person "
    "WHERE id_number IS NOT NULL ORDER BY gid LIMIT 3"
)


def connect(user, password, **kw):
    return psycopg.connect(
        host="127.0.0.1", port=PORT, user=user, password=password,
        dbname="civhub", connect_timeout=10, **kw
    )


def refused(conn, sql, params=None, prepare=None, code=None, words=()):
    with conn.cursor() as cur:
        try:
            cur.execute(sql, params, prepare=prepare)
        except psycopg.Error as e:
            msg = str(e)
            assert code is None or e.sqlstate == code, (sql, e.sqlstate, msg)
            for w in words:
                assert w in msg, (sql, w, msg)
            if not conn.autocommit:
                conn.rollback()
            return msg
    raise AssertionError(f"not refused: {sql}")


def cjk(s):
    return any("\u4e00" <= c <= "\u9fff" for c in s)


# A wrong password is refused.
try:
    connect("ana", "wrong-password").close()
    raise AssertionError("a wrong password was accepted")
except psycopg.OperationalError as e:
    assert "password authentication failed" in str(e), str(e)

# Caseworker, in a transaction as psycopg does by default (BEGIN/COMMIT are
# answered without running anything).
with connect("cw", "casework-pass") as cw:
    with cw.cursor() as cur:
        cur.execute("SHOW transaction isolation level")
        assert cur.fetchone()[0] == "read committed"
        cur.execute(Q)
        clear = cur.fetchall()
        assert len(clear) == 3, clear
        for gid, id_number, name in clear:
            assert "*" not in id_number and len(id_number) == 18, id_number
            assert "*" not in name and cjk(name), name
        # Extended protocol with a parameter.
        cur.execute(
            "SELECT id_number, name FROM population.person WHERE gid = %s",
            (clear[0][0],),
        )
        assert cur.fetchall() == [(clear[0][1], clear[0][2])]
        cur.execute("SELECT count(*) FROM civil_affairs.dibao_member")
        assert cur.fetchone()[0] > 0
    cw.commit()
    refused(cw, "DROP TABLE population.person", code="25006", words=["refused"])
    refused(cw, "DROP TABLE population.person", prepare=True, code="25006",
            words=["refused"])
    refused(cw, "INSERT INTO population.person (gid) VALUES (%s)", ("x",),
            code="25006", words=["refused"])
    refused(cw, "COPY population.person TO '/tmp/civhub-leak.csv'",
            prepare=True, code="25006", words=["COPY"])

# Analyst, autocommit.
with connect("ana", "analyst-pass", autocommit=True) as ana:
    with ana.cursor() as cur:
        cur.execute("SET extra_float_digits = 3")
        cur.execute(Q)
        masked = cur.fetchall()
        assert [r[0] for r in masked] == [r[0] for r in clear]
        for (gid, mid, mname), (_, cid, cname) in zip(masked, clear):
            assert mid == cid[:4] + "**********" + cid[14:], (mid, cid)
            assert mname != cname and "*" in mname, (mname, cname)
        cur.execute(
            "SELECT id_number FROM population.person WHERE gid = %s",
            (clear[0][0],),
        )
        assert cur.fetchone()[0] == masked[0][1]
        # Filtering on the original value finds nothing.
        cur.execute(
            "SELECT count(*) FROM population.person WHERE id_number = %s",
            (clear[0][1],),
        )
        assert cur.fetchone()[0] == 0
    for prepare in (None, True):
        refused(ana, "SELECT count(*) FROM civil_affairs.dibao_member",
                prepare=prepare, code="42501",
                words=["civil_affairs.dibao_member"])
    refused(ana, "SELECT * FROM population.person p WHERE p.gid IN "
            "(SELECT person_gid FROM civil_affairs.dibao_member "
            "WHERE person_gid <> %s)", ("x",), code="42501",
            words=["civil_affairs.dibao_member"])

print("psycopg: all checks passed")
