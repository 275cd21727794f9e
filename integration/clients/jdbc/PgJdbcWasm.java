// pgjdbc calling wasm functions through wasql's proxy, with parameters.
//
// Run by integration/proxy_wasm_test.go (TestProxyWasmJDBC), against a proxy whose database has
// the functions fib(bigint), slugify(text), plus(bigint, bigint); by hand:
//
//   javac -cp /usr/share/java/postgresql.jar -d /tmp/jdbc integration/clients/jdbc/PgJdbcWasm.java
//   PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGPASSWORD=x PGDATABASE=wasmcalls \
//     java -cp /tmp/jdbc:/usr/share/java/postgresql.jar PgJdbcWasm
//
// Each check prints "ok - NAME" or "FAIL - NAME: why", then "N passed, N failed"; the program
// exits 1 when any check failed. pgjdbc sends setLong as int8 and setString as varchar (so
// PostgreSQL's implicit cast picks slugify(text)); from the 5th execution of a
// PreparedStatement (prepareThreshold) it uses a named server-side statement and binary
// results for int8, and with prepareThreshold=-1 it prepares at once and asks for binary from
// the first execution.
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;

public class PgJdbcWasm {
    interface Check {
        void run() throws Exception;
    }

    static final List<String> passed = new ArrayList<>();
    static final List<String> failed = new ArrayList<>();
    static Connection conn;
    static final String UID = ProcessHandle.current().pid() + "_" + (System.currentTimeMillis() % 1000000);
    static final String TABLE = "jdbcw_t_" + UID;
    static final String[] TEXTS = {"Hello, World!", "  WebAssembly in SQL  ", "Ünïcödé Straße 42", "", "---", "x_Y-z 2026!", "?"};

    static boolean check(String name, Check c) {
        try {
            c.run();
        } catch (Throwable e) {
            String detail = e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).trim().replace("\n", " | ");
            if (e instanceof SQLException && ((SQLException) e).getSQLState() != null) {
                detail += " (SQLSTATE " + ((SQLException) e).getSQLState() + ")";
            }
            System.out.println("FAIL - " + name + ": " + detail);
            if (System.getenv("WASQL_CLIENT_TRACE") != null) {
                e.printStackTrace(System.out);
            }
            failed.add(name);
            try {
                if (conn != null && !conn.getAutoCommit()) {
                    conn.rollback();
                }
            } catch (SQLException ignored) {
            }
            return false;
        }
        System.out.println("ok - " + name);
        passed.add(name);
        return true;
    }

    static void expect(Object got, Object want, String what) {
        if (!Objects.equals(got, want)) {
            throw new AssertionError(what + ": got " + got + ", want " + want);
        }
    }

    static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? def : v;
    }

    /** fib is fib_iter of udf/testdata/fib.wat (Java's long wraps as the guest's i64 does). */
    static long fib(long n) {
        long a = 0, b = 1;
        for (; n > 0; n--) {
            long t = a + b;
            a = b;
            b = t;
        }
        return a;
    }

    /** slug is slugify of udf/testdata/guests/c/funcs.c, over the UTF-8 bytes. */
    static String slug(String s) {
        StringBuilder out = new StringBuilder();
        boolean dash = false;
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
                if (dash && out.length() > 0) {
                    out.append('-');
                }
                out.append((char) c);
                dash = false;
            } else {
                dash = true;
            }
        }
        return out.toString();
    }

    static Connection connect(String prepareThreshold) throws SQLException {
        String url = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":" + env("PGPORT", "5433") + "/" + env("PGDATABASE", "wasmcalls");
        Properties props = new Properties();
        props.setProperty("user", env("PGUSER", "root"));
        if (System.getenv("PGPASSWORD") != null) {
            props.setProperty("password", System.getenv("PGPASSWORD"));
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "60");
        props.setProperty("sslmode", "disable");
        if (prepareThreshold != null) {
            props.setProperty("prepareThreshold", prepareThreshold);
        }
        return DriverManager.getConnection(url, props);
    }

    /** scalars runs fib/plus/slugify on ps 12 times (past prepareThreshold) and checks each row. */
    static void scalars(PreparedStatement ps, String what) throws SQLException {
        for (int i = 0; i < 12; i++) {
            long n = i * 8, a = (long) i << 35, b = -i * 13;
            String s = TEXTS[i % TEXTS.length];
            ps.setLong(1, n);
            ps.setLong(2, a);
            ps.setLong(3, b);
            ps.setString(4, s);
            try (ResultSet rs = ps.executeQuery()) {
                expect(rs.next(), true, what + " execution " + i + ": a row");
                expect(rs.getLong(1), fib(n), what + " execution " + i + ": fib(" + n + ")");
                expect(rs.getLong(2), a + b, what + " execution " + i + ": plus(" + a + ", " + b + ")");
                expect(rs.getString(3), slug(s), what + " execution " + i + ": slugify(" + s + ")");
                expect(rs.getString("s"), slug(s), what + " execution " + i + ": by label");
                ResultSetMetaData md = rs.getMetaData();
                expect(md.getColumnType(1) + " " + md.getColumnType(2) + " " + md.getColumnType(3),
                        Types.BIGINT + " " + Types.BIGINT + " " + Types.VARCHAR, what + ": column types");
                expect(rs.next(), false, what + " execution " + i + ": one row");
            }
        }
    }

    static final String SCALARS = "SELECT fib(?) AS f, plus(?, ?) AS p, slugify(?) AS s";

    public static void main(String[] args) throws Exception {
        if (!check("connect", () -> conn = connect(null))) {
            finish();
        }
        check("prepared statement, executed 12 times", () -> {
            try (PreparedStatement ps = conn.prepareStatement(SCALARS)) {
                scalars(ps, "default threshold");
            }
        });
        check("parameter metadata", () -> {
            try (PreparedStatement ps = conn.prepareStatement(SCALARS)) {
                var pm = ps.getParameterMetaData();
                expect(pm.getParameterCount(), 4, "parameters");
                expect(pm.getParameterType(1) + " " + pm.getParameterType(4), Types.BIGINT + " " + Types.VARCHAR,
                        "parameter types of fib(?) and slugify(?)");
            }
        });
        check("prepared at once, binary results", () -> {
            try (Connection c = connect("-1"); PreparedStatement ps = c.prepareStatement(SCALARS)) {
                scalars(ps, "prepareThreshold=-1");
            }
        });
        check("table with parameters in WHERE", () -> {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE " + TABLE + " (id bigint PRIMARY KEY, s text)");
                st.execute("INSERT INTO " + TABLE + " SELECT g, 'Jdbc Row ' || g FROM generate_series(1, 200) g");
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT id, fib(id % 50), slugify(s), plus(id, ?) FROM " + TABLE + " WHERE id BETWEEN ? AND ? ORDER BY id")) {
                for (int i = 0; i < 7; i++) {
                    long lo = 1 + i * 25, hi = lo + 30, k = i * 1000;
                    ps.setLong(1, k);
                    ps.setLong(2, lo);
                    ps.setLong(3, hi);
                    long want = lo;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            long id = rs.getLong(1);
                            expect(id, want, "id");
                            expect(rs.getLong(2), fib(id % 50), "fib(" + id + " % 50)");
                            expect(rs.getString(3), "jdbc-row-" + id, "slugify of row " + id);
                            expect(rs.getLong(4), id + k, "plus(" + id + ", " + k + ")");
                            want++;
                        }
                    }
                    expect(want, Math.min(hi, 200) + 1, "rows " + lo + ".." + hi + " end");
                }
            }
        });
        check("UPDATE with a parameter, in a transaction", () -> {
            conn.setAutoCommit(false);
            try (PreparedStatement ps = conn.prepareStatement("UPDATE " + TABLE + " SET s = slugify(s) WHERE id <= ?")) {
                ps.setLong(1, 10);
                expect(ps.executeUpdate(), 10, "rows updated");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM " + TABLE + " WHERE s = slugify(s)")) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    expect(rs.getLong(1), 10L, "slugged rows seen inside the transaction");
                }
            }
            conn.rollback();
            conn.setAutoCommit(true);
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + TABLE + " WHERE s LIKE 'Jdbc Row %'")) {
                rs.next();
                expect(rs.getLong(1), 200L, "rows untouched after ROLLBACK");
            }
        });
        try (Statement st = conn.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + TABLE);
        } catch (SQLException e) {
            System.err.println("cleanup: " + e.getMessage());
        }
        finish();
    }

    static void finish() {
        System.out.println(passed.size() + " passed, " + failed.size() + " failed");
        System.exit(failed.isEmpty() ? 0 : 1);
    }
}
