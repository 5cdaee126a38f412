"""psycopg against civhub's PostgreSQL endpoint (run by tests/it/serve_pg.rs).

Usage: pg_clients.py PORT, or pg_clients.py PORT LIMITED_PORT limits. Users
ana (analyst), cw (caseworker) and aud (auditor) exist with passwords
analyst-pass, casework-pass and auditor-pass. With `limits`, only the row and
time limits are checked, over the extended protocol, against the server on
LIMITED_PORT (max-rows 5, timeout-seconds 2). Exits non-zero on the first
failed check, saying which.
"""

import re
import socket
import struct
import sys
import threading
import time

import psycopg

PORT = int(sys.argv[1])
Q = (
    "SELECT gid, id_number, name FROM population.person "
    "WHERE id_number IS NOT NULL ORDER BY gid LIMIT 3"
)


def connect(user, password, port=None, **kw):
    return psycopg.connect(
        host="127.0.0.1", port=port or PORT, user=user, password=password,
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


# The limits of one query (access/policy.toml [limits]) on the extended
# protocol, prepared statements included: SQLSTATE 54000, naming the limit.
if sys.argv[3:] == ["limits"]:
    LIMITED = int(sys.argv[2])
    with connect("cw", "casework-pass", port=LIMITED, autocommit=True) as c:
        for prepare in (None, True):
            refused(c, "SELECT gid FROM population.person WHERE gid > %s",
                    ("",), prepare=prepare, code="54000",
                    words=["more than 5 rows", "max-rows"])
        rows = c.execute("SELECT gid FROM population.person WHERE gid > %s "
                         "ORDER BY gid LIMIT 5", ("",)).fetchall()
        assert len(rows) == 5, rows
        t0 = time.monotonic()
        refused(c, "SELECT max(value %% 7) AS m FROM "
                "generate_series(1, 100000000000) WHERE value > %s", (0,),
                code="54000", words=["longer than 2 s", "timeout-seconds"])
        assert time.monotonic() - t0 < 30, "the slow query was not stopped"
        assert c.execute("SELECT count(*) FROM population.person").fetchone()[0] > 5
    print("psycopg: the limits hold")
    sys.exit(0)


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


# Server-side cursors (psycopg named cursors: DECLARE, Describe portal,
# FETCH FORWARD n, CLOSE): the rows come max n at a time, in order.
ALL = "SELECT gid, name FROM population.person WHERE gid > %s ORDER BY gid LIMIT 25"
with connect("cw", "casework-pass") as cw:
    expected = cw.execute(ALL, ("P",)).fetchall()
    assert len(expected) > 20, len(expected)
    with cw.cursor(name="persons") as cur:
        cur.execute(ALL, ("P",))
        assert [d.name for d in cur.description] == ["gid", "name"], cur.description
        first, second = cur.fetchmany(10), cur.fetchmany(10)
        rest = cur.fetchall()
        assert (len(first), len(second)) == (10, 10), (first, second)
        assert first + second + rest == expected
        assert cur.fetchmany(10) == []
    with cw.cursor(name="typed", binary=True) as cur:
        cur.execute("SELECT gid, birth_date FROM population.person "
                    "WHERE birth_date IS NOT NULL ORDER BY gid LIMIT 4")
        rows = cur.fetchmany(3) + cur.fetchall()
        assert len(rows) == 4 and all(hasattr(r[1], "year") for r in rows), rows
    with cw.cursor(name="paged") as cur:
        cur.itersize = 7
        cur.execute(ALL, ("P",))
        assert list(cur) == expected
    cw.commit()
    # A cursor over a table the user may not read is refused like the query.
    with connect("ana", "analyst-pass") as ana:
        try:
            with ana.cursor(name="leak") as cur:
                cur.execute("SELECT * FROM civil_affairs.dibao_member")
            raise AssertionError("a cursor over a refused table was opened")
        except psycopg.Error as e:
            assert e.sqlstate == "42501" and "civil_affairs.dibao_member" in str(e), e

with connect("ana", "analyst-pass", autocommit=True) as ana:
    # WITH HOLD cursors live outside a transaction; values stay masked.
    with ana.cursor(name="held", withhold=True) as cur:
        cur.execute(Q)
        assert cur.fetchmany(2) + cur.fetchall() == masked
    # Without HOLD, outside a transaction, PostgreSQL refuses DECLARE.
    refused(ana, 'DECLARE "c" CURSOR FOR SELECT 1', code="25P01",
            words=["transaction"])
    refused(ana, 'FETCH FORWARD 5 FROM "nothing"', code="34000",
            words=["nothing"])
    refused(ana, 'DECLARE "w" CURSOR WITH HOLD FOR '
            "SELECT count(*) FROM civil_affairs.dibao_member", code="42501")


# The extended protocol's row limit, as JDBC's fetch size uses it: Execute
# on a named portal with max_rows sends that many rows and PortalSuspended;
# the next Execute continues. Spoken raw, since libpq (psycopg) never sets
# max_rows.
def cstr(s):
    return s.encode() + b"\0"


def msg(kind, body=b""):
    return kind + struct.pack("!i", len(body) + 4) + body


class Raw:
    def __init__(self, user, password):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        self.buf = b""
        body = (struct.pack("!i", 196608) + cstr("user") + cstr(user)
                + cstr("database") + cstr("civhub") + b"\0")
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        kind, body = self.read()
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 3, (kind, body)
        self.sock.sendall(msg(b"p", cstr(password)))
        self.until_ready()

    def read(self):
        while (len(self.buf) < 5
               or len(self.buf) < 1 + struct.unpack("!i", self.buf[1:5])[0]):
            more = self.sock.recv(65536)
            assert more, "the server closed the connection"
            self.buf += more
        n = struct.unpack("!i", self.buf[1:5])[0]
        kind, body, self.buf = self.buf[:1], self.buf[5:1 + n], self.buf[1 + n:]
        return kind, body

    def until_ready(self, *messages):
        self.sock.sendall(b"".join(messages))
        out = []
        while True:
            kind, body = self.read()
            if kind == b"Z":
                return out
            assert kind != b"E", body
            out.append((kind, body))


def execute(portal, max_rows):
    return msg(b"E", cstr(portal) + struct.pack("!i", max_rows))


def data_rows(messages):
    return [body for kind, body in messages if kind == b"D"]


raw = Raw("cw", "casework-pass")
raw.until_ready(msg(b"Q", cstr("BEGIN")))
sql = "SELECT gid, name FROM population.person ORDER BY gid LIMIT 7"
whole = raw.until_ready(
    msg(b"P", cstr("") + cstr(sql) + struct.pack("!h", 0)),
    msg(b"B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0)),
    execute("", 0), msg(b"S"))
assert len(data_rows(whole)) == 7, whole
parts = [raw.until_ready(
    msg(b"P", cstr("s1") + cstr(sql) + struct.pack("!h", 0)),
    msg(b"B", cstr("C_1") + cstr("s1") + struct.pack("!hhh", 0, 0, 0)),
    execute("C_1", 3), msg(b"S"))]
parts += [raw.until_ready(execute("C_1", 3), msg(b"S")) for _ in range(2)]
kinds = [[k for k, _ in m if k != b"D"] for m in parts]
assert kinds == [[b"1", b"2", b"s"], [b"s"], [b"C"]], kinds
assert [len(data_rows(m)) for m in parts] == [3, 3, 1], parts
assert sum((data_rows(m) for m in parts), []) == data_rows(whole)
raw.until_ready(msg(b"Q", cstr("COMMIT")))
raw.sock.close()


# What DBeaver sends through pgjdbc on connecting and when browsing a
# schema (from DBeaver's PostgreSQL plugin and pgjdbc: PostgreDataSource,
# PostgreExecutionContext, PostgreDatabase, PostgreSchema, TypeInfoCache),
# with the parameters it binds. DBeaver itself is not run here.
KEYWORDS = "a,abs,absolute,action,ada,add,admin,after,all,allocate,alter"
DBEAVER_STARTUP = [
    ("SET extra_float_digits = 3", None),
    ("SET application_name = 'PostgreSQL JDBC Driver'", None),
    ("SET application_name = 'DBeaver 25.1.5 - Main <civhub>'", None),
    ("SELECT current_schema(),session_user", None),
    ("SHOW search_path", None),
    ("SELECT version()", None),
    ("SELECT current_database()", None),
    ("SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE 1 = 1 "
     "AND datallowconn AND NOT datistemplate OR db.datname =%s", ("civhub",)),
    ("SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=%s",
     ("civhub",)),
    ("select * from pg_catalog.pg_settings where name=%s",
     ("standard_conforming_strings",)),
    ("SELECT string_agg(word, ',') from pg_catalog.pg_get_keywords() "
     f"where word <> ALL ('{{{KEYWORDS}}}'::text[])", None),
    ("SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n\n"
     "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid "
     "AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass\n"
     " ORDER BY nspname", None),
    ("SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname "
     "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
     "ON t.typnamespace = n.oid WHERE t.oid = %s", (1034,)),
    ("SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, "
     "typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select "
     "ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns    "
     "       join ( select s.r, (current_schemas(false))[s.r] as nspname    "
     "                from generate_series(1, array_upper("
     "current_schemas(false), 1)) as s(r) ) as r          using ( nspname ) "
     "       ) as sp     ON sp.nspoid = typnamespace  WHERE pg_type.oid = %s "
     " ORDER BY sp.r, pg_type.oid DESC", (1034,)),
    ("SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1", None),
    ("SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1", None),
    ("SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), "
     "t.typtypmod) as base_type_name, d.description\n"
     "FROM pg_catalog.pg_type t\n"
     "LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem \n"
     "LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid\n"
     "LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid\n"
     "WHERE t.typname IS NOT NULL\nAND (c.relkind IS NULL OR c.relkind = 'c') "
     "AND (et.typcategory IS NULL OR et.typcategory <> 'C')", None),
    ("SET search_path = \"population\",public", None),
]
DBEAVER_TABLES = (
    "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, "
    "c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as "
    "partition_key \nFROM pg_catalog.pg_class c\nLEFT OUTER JOIN "
    "pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND "
    "d.classoid='pg_class'::regclass\n"
    "WHERE c.relnamespace=%s AND c.relkind not in ('i','I','c')")
DBEAVER_INHERITS = (
    "SELECT i.inhrelid relid, pc.relnamespace parent_ns, pc.oid parent_oid, "
    "i.inhseqno\nFROM pg_catalog.pg_inherits i, pg_class rc, pg_class pc\n"
    "WHERE rc.oid=i.inhrelid AND rc.relnamespace=%s AND pc.oid=i.inhparent")
DBEAVER_COLUMNS = (
    "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) "
    "as def_value,dsc.description,dep.objid\nFROM pg_catalog.pg_attribute a"
    "\nINNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)\nLEFT OUTER "
    "JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = "
    "ad.adnum)\nLEFT OUTER JOIN pg_catalog.pg_description dsc ON "
    "(c.oid=dsc.objoid AND a.attnum = dsc.objsubid)\nLEFT OUTER JOIN "
    "pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and "
    "dep.refobjsubid = a.attnum and dep.classid = dep.refclassid\nWHERE NOT "
    "a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=%s\n"
    "ORDER BY a.attnum")
DBEAVER_CONSTRAINTS = (
    "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as "
    "refnamespace,d.description, case when c.contype='c' then "
    "\"substring\"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy"
    "\nFROM pg_catalog.pg_constraint c\nINNER JOIN pg_catalog.pg_class t ON "
    "t.oid=c.conrelid\nLEFT OUTER JOIN pg_catalog.pg_class rt ON "
    "rt.oid=c.confrelid\nLEFT OUTER JOIN pg_catalog.pg_description d ON "
    "d.objoid=c.oid AND d.objsubid=0 AND "
    "d.classoid='pg_constraint'::regclass\nWHERE c.conrelid=%s\nORDER BY c.oid")
DBEAVER_INDEXES = (
    "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,"
    "c.reltablespace,tc.relname as tabrelname,dsc.description,"
    "pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,"
    "pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,"
    "pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,"
    "pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans\n"
    "FROM pg_catalog.pg_index i\nINNER JOIN pg_catalog.pg_class c ON "
    "c.oid=i.indexrelid\nINNER JOIN pg_catalog.pg_class tc ON "
    "tc.oid=i.indrelid\nLEFT OUTER JOIN pg_catalog.pg_description dsc ON "
    "i.indexrelid=dsc.objoid\nWHERE  i.indrelid=%s ORDER BY c.relname")


def rows_of(conn, sql, params):
    try:
        cur = conn.execute(sql, params)
    except psycopg.Error as e:
        raise AssertionError(f"DBeaver's query failed: {sql}\n{e}") from e
    return cur.fetchall() if cur.description else None


def by_name(cur_rows, description, name):
    i = [d.name for d in description].index(name)
    return [r[i] for r in cur_rows]


for autocommit in (True, False):
    with connect("ana", "analyst-pass", autocommit=autocommit,
                 application_name="DBeaver 25.1.5 - Main <civhub>") as db:
        for sql, params in DBEAVER_STARTUP:
            rows_of(db, sql, params)
        cur = db.execute(DBEAVER_STARTUP[11][0])
        schemas = by_name(cur.fetchall(), cur.description, "nspname")
        assert "population" in schemas and "pg_catalog" in schemas, schemas
        assert db.execute("SELECT current_schema(),session_user").fetchone()[1] == "ana"
        ns = rows_of(db, "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s",
                     ("population",))[0][0]
        cur = db.execute(DBEAVER_TABLES, (ns,))
        tables = dict(zip(by_name(r := cur.fetchall(), cur.description, "relname"),
                          by_name(r, cur.description, "oid")))
        assert "person" in tables, tables
        rows_of(db, DBEAVER_INHERITS, (ns,))
        cur = db.execute(DBEAVER_COLUMNS, (tables["person"],))
        columns = by_name(cur.fetchall(), cur.description, "attname")
        assert {"gid", "id_number", "name"} <= set(columns), columns
        rows_of(db, DBEAVER_CONSTRAINTS, (tables["person"],))
        rows_of(db, DBEAVER_INDEXES, (tables["person"],))
        # Civil affairs' schema lists only what an analyst may read.
        ca = rows_of(db, "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = %s",
                     ("civil_affairs",))
        if ca:
            cur = db.execute(DBEAVER_TABLES, (ca[0][0],))
            names = by_name(cur.fetchall(), cur.description, "relname")
            assert "dibao_member" not in names, names
        # The data tab: masked, and still read-only.
        cur = db.execute("SELECT t.* FROM population.person t LIMIT 200")
        ids = [i for i in by_name(cur.fetchall(), cur.description, "id_number") if i]
        assert ids and all("*" in i for i in ids), ids[:3]
        refused(db, "DROP TABLE population.person", code="25006",
                words=["refused"])
        if not autocommit:
            db.rollback()

# 32 clients at once for a bounded time (3 s), analysts and caseworkers,
# each on its own connection: no error, every answer the one a single
# client gets, and an audit row for every query each of them made.
GID = clear[0][0]
LOAD = [
    ("SELECT '{tag}' AS tag, gender, count(*) AS n FROM population.person "
     "GROUP BY gender ORDER BY gender", None),
    ("SELECT '{tag}' AS tag, gid, id_number, name, address "
     "FROM population.person WHERE gid = %s", (GID,)),
    ("SELECT '{tag}' AS tag, count(*) AS n, count(DISTINCT person_gid) AS p "
     "FROM population.household_member", None),
]
USERS = [("ana", "analyst-pass"), ("cw", "casework-pass")]
expected = {}
for user, password in USERS:
    with connect(user, password, autocommit=True) as c:
        for k, (sql, params) in enumerate(LOAD):
            rows = c.execute(sql.format(tag="single"), params).fetchall()
            assert rows, (user, sql)
            expected[(user, k)] = [r[1:] for r in rows]
assert expected[("ana", 1)] != expected[("cw", 1)], "masked for the analyst"

CLIENTS = 32
made = [0] * CLIENTS
errors = []
deadline = time.monotonic() + 3.0


def client(i):
    user, password = USERS[i % 2]
    tag = f"load-{i:02d}"
    try:
        with connect(user, password, autocommit=True) as c:
            while True:
                k = (i + made[i]) % len(LOAD)
                sql, params = LOAD[k]
                rows = c.execute(sql.format(tag=tag), params).fetchall()
                assert all(r[0] == tag for r in rows), rows
                got = [r[1:] for r in rows]
                assert got == expected[(user, k)], (i, k, got)
                made[i] += 1
                if time.monotonic() >= deadline:
                    break
    except Exception as e:  # reported below, with the client's number
        errors.append(f"client {i} ({user}): {e!r}")


threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=120)
assert not any(t.is_alive() for t in threads), "a client hung"
assert not errors, "\n".join(errors)
assert all(n >= 1 for n in made), made

with connect("aud", "auditor-pass", autocommit=True) as aud:
    logged = aud.execute(
        "SELECT user, statement, rows FROM audit.log "
        "WHERE interface = 'pgwire' AND allowed AND action = 'query' "
        "AND statement LIKE %s", ("%'load-%",)).fetchall()
audited = [0] * CLIENTS
for user, statement, _rows in logged:
    m = re.search(r"'load-(\d+)'", statement)
    if m:
        i = int(m.group(1))
        assert user == USERS[i % 2][0], (user, statement)
        audited[i] += 1
for i in range(CLIENTS):
    assert audited[i] >= made[i], (i, audited[i], made[i])
print(f"psycopg: {CLIENTS} clients made {sum(made)} queries in 3 s, "
      "all right and all audited")

print("psycopg: all checks passed")
