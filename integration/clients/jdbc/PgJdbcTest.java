// pgjdbc (the PostgreSQL JDBC driver) against wasql's Postgres wire.
//
// Run by integration/pgclients_test.go; by hand (apt-get install -y libpostgresql-jdbc-java):
//
//   javac -cp /usr/share/java/postgresql.jar -d /tmp/jdbc integration/clients/jdbc/PgJdbcTest.java
//   PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGDATABASE=wasql WASQL_REPO=$PWD \
//     java -cp /tmp/jdbc:/usr/share/java/postgresql.jar PgJdbcTest
//
// Each check prints "ok - NAME" or "FAIL - NAME: why"; the program exits 1 when any check failed.
// pgjdbc always uses the extended protocol with typed parameters (setLong: int8, setString:
// varchar, setBytes: bytea in binary); from the 5th execution of a PreparedStatement
// (prepareThreshold) it switches to a named server-side statement and binary results.
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import org.postgresql.PGStatement;

public class PgJdbcTest {
    interface Check {
        void run() throws Exception;
    }

    static final List<String> passed = new ArrayList<>();
    static final List<String> failed = new ArrayList<>();
    static Connection conn;
    static Path repo;
    static final String UID = ProcessHandle.current().pid() + "_" + (System.currentTimeMillis() % 1000000);
    static final String TABLE = "jdbc_t_" + UID, PLUS = "jdbc_plus_" + UID, SLUGIFY = "jdbc_slugify_" + UID;

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

    static byte[] module(String path) throws Exception {
        return Files.readAllBytes(repo.resolve(path));
    }

    static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? def : v;
    }

    /** rows reads every row as a list of column values (Long for integers, String for text). */
    static List<List<Object>> rows(ResultSet rs) throws SQLException {
        List<List<Object>> out = new ArrayList<>();
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
            List<Object> row = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                Object v = rs.getObject(i);
                if (v instanceof Integer || v instanceof Short) {
                    v = ((Number) v).longValue();
                }
                row.add(v);
            }
            out.add(row);
        }
        rs.close();
        return out;
    }

    static List<Object> row(Object... values) {
        return Arrays.asList(values);
    }

    static void insertRows(boolean update) throws Exception {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + TABLE + " (id, a, b, s) VALUES (?, ?, ?, ?)")) {
            Object[][] data = {{1L, 1L, 2L, "Hello, World!"}, {2L, 40L, 2L, "WebAssembly in SQL"}, {3L, null, 1L, null}};
            for (Object[] r : data) {
                ps.setLong(1, (Long) r[0]);
                if (r[1] == null) {
                    ps.setNull(2, Types.BIGINT);
                } else {
                    ps.setLong(2, (Long) r[1]);
                }
                ps.setLong(3, (Long) r[2]);
                if (r[3] == null) {
                    ps.setNull(4, Types.VARCHAR);
                } else {
                    ps.setString(4, (String) r[3]);
                }
                if (update) {
                    expect(ps.executeUpdate(), 1, "update count");
                } else {
                    ps.execute();
                }
            }
        }
        try (Statement st = conn.createStatement()) {
            expect(rows(st.executeQuery("SELECT count(*) FROM " + TABLE)), List.of(row(3L)), "count(*)");
        }
    }

    public static void main(String[] args) throws Exception {
        repo = Paths.get(env("WASQL_REPO", ".")).toAbsolutePath();
        String url = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":" + env("PGPORT", "5433") + "/" + env("PGDATABASE", "wasql");
        Properties props = new Properties();
        props.setProperty("user", env("PGUSER", "root"));
        if (System.getenv("PGPASSWORD") != null) {
            props.setProperty("password", System.getenv("PGPASSWORD"));
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "60");

        if (!check("connect", () -> conn = DriverManager.getConnection(url, props))) {
            finish();
        }

        check("create_table", () -> {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE " + TABLE + " (id bigint primary key, a bigint, b bigint, s text)");
            }
        });

        boolean created = check("create_plus_bytea_param", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "CREATE FUNCTION " + PLUS + "(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS ?, 'add'")) {
                ps.setBytes(1, module("udf/testdata/numeric.wasm"));
                ps.execute();
            }
        });
        if (!created) {
            check("create_plus_literal", () -> {
                StringBuilder hex = new StringBuilder();
                for (byte b : module("udf/testdata/numeric.wasm")) {
                    hex.append(String.format("%02x", b));
                }
                try (Statement st = conn.createStatement()) {
                    st.execute("CREATE FUNCTION " + PLUS + "(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\\x" + hex + "', 'add'");
                }
            });
        }

        check("create_slugify", () -> {
            String b64 = Base64.getEncoder().encodeToString(module("udf/testdata/guests/c_funcs.wasm"));
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE FUNCTION " + SLUGIFY + "(text) RETURNS text LANGUAGE wasm AS '" + b64 + "', 'slugify'");
            }
        });

        if (!check("insert_params", () -> insertRows(true))) {
            // executeUpdate refuses an INSERT whose Describe answered with a RowDescription;
            // execute() does not care, so the rows still get in for the checks below.
            check("insert_params_execute", () -> {
                try (Statement st = conn.createStatement()) {
                    st.execute("DELETE FROM " + TABLE);
                }
                insertRows(false);
            });
        }

        check("select_params", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT id, " + PLUS + "(a, b), " + SLUGIFY + "(s) FROM " + TABLE + " WHERE id >= ? AND id <= ? ORDER BY id")) {
                ps.setLong(1, 1);
                ps.setLong(2, 3);
                expect(rows(ps.executeQuery()),
                        List.of(row(1L, 3L, "hello-world"), row(2L, 42L, "webassembly-in-sql"), row(3L, null, null)), "rows");
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT id FROM " + TABLE + " WHERE " + PLUS + "(a, b) = ? AND " + SLUGIFY + "(s) = ?")) {
                ps.setLong(1, 42);
                ps.setString(2, "webassembly-in-sql");
                expect(rows(ps.executeQuery()), List.of(row(2L)), "rows where plus(a, b) = 42");
            }
        });

        check("wasm_arg_params", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT " + PLUS + "(?, ?)")) {
                ps.setLong(1, 40);
                ps.setLong(2, 2);
                expect(rows(ps.executeQuery()), List.of(row(42L)), "plus of two parameters");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT " + SLUGIFY + "(?)")) {
                ps.setString(1, "Ünïcode  Text!");
                expect(rows(ps.executeQuery()), List.of(row("n-code-text")), "slugify of a UTF-8 parameter");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT " + PLUS + "(a, ?) FROM " + TABLE + " WHERE id = ?")) {
                ps.setLong(1, 100);
                ps.setLong(2, 2);
                expect(rows(ps.executeQuery()), List.of(row(140L)), "plus(a, parameter)");
            }
        });

        check("aggregate", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT sum(" + PLUS + "(a, b)), count(*) FROM " + TABLE + " WHERE " + PLUS + "(a, b) > ?")) {
                ps.setLong(1, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new AssertionError("no row");
                    }
                    expect(new BigDecimal(rs.getString(1)).longValueExact(), 45L, "sum(plus(a, b))");
                    expect(rs.getLong(2), 2L, "count(*)");
                }
            }
        });

        // pgjdbc's prepareThreshold is 5: executions 5 and later use a named server-side statement
        // (Parse once, then Bind/Execute) and ask for binary results.
        check("prepared_repeat", () -> {
            List<List<Object>> want = List.of(row(1L, 3L, "hello-world"), row(2L, 42L, "webassembly-in-sql"), row(3L, null, null));
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT id, " + PLUS + "(a, b), " + SLUGIFY + "(s) FROM " + TABLE + " WHERE id = ?")) {
                for (int i = 0; i < 12; i++) {
                    long id = i % 3 + 1;
                    ps.setLong(1, id);
                    expect(rows(ps.executeQuery()), List.of(want.get((int) id - 1)), "execution " + (i + 1));
                }
                if (!ps.unwrap(PGStatement.class).isUseServerPrepare()) {
                    throw new AssertionError("pgjdbc did not switch to a server-side prepared statement");
                }
            }
        });

        check("prepared_repeat_wasm_args", () -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT " + PLUS + "(a, ?), " + SLUGIFY + "(?) FROM " + TABLE + " WHERE id = ?")) {
                for (int i = 0; i < 10; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "Run " + i);
                    ps.setLong(3, 2);
                    expect(rows(ps.executeQuery()), List.of(row(40L + i, "run-" + i)), "execution " + (i + 1));
                }
            }
        });

        check("prepared_repeat_insert", () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + TABLE + " (id, a, b, s) VALUES (?, ?, ?, ?)")) {
                for (int i = 0; i < 8; i++) {
                    ps.setLong(1, 100 + i);
                    ps.setLong(2, i);
                    ps.setLong(3, 1000);
                    ps.setString(4, "Row " + i);
                    ps.execute(); // not executeUpdate: insert_params covers that (and its update count)
                }
            }
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT sum(" + PLUS + "(a, b)), count(*) FROM " + TABLE + " WHERE id >= 100")) {
                if (!rs.next()) {
                    throw new AssertionError("no row");
                }
                // sum() is float8 here (the engine's SUM), numeric in Postgres: compare the value
                expect(new BigDecimal(rs.getString(1)).longValueExact(), 8028L, "sum over the inserted rows");
                expect(rs.getLong(2), 8L, "count of the inserted rows");
            }
        });

        check("unknown_function_sqlstate", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT no_such_function_" + UID + "(?)")) {
                ps.setLong(1, 1);
                ps.executeQuery();
            } catch (SQLException e) {
                if (e.getSQLState() == null) {
                    throw new AssertionError("error without SQLSTATE: " + e.getMessage());
                }
                if (e.getSQLState().equals("XX000")) {
                    throw new AssertionError("unknown function gave SQLSTATE XX000 (internal error): " + e.getMessage());
                }
                System.out.println("# unknown function: SQLSTATE " + e.getSQLState() + ": " + e.getMessage());
                return;
            }
            throw new AssertionError("no error for an unknown function");
        });

        check("after_error", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT " + PLUS + "(a, b) FROM " + TABLE + " WHERE id = ?")) {
                ps.setLong(1, 2);
                expect(rows(ps.executeQuery()), List.of(row(42L)), "a query after the error");
            }
        });

        check("copy_from_stdin", () -> {
            String table = TABLE + "_copy";
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE " + table + " (id bigint primary key, s text)");
            }
            org.postgresql.copy.CopyManager cm = conn.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
            long n = cm.copyIn("COPY " + table + " (id, s) FROM STDIN WITH (FORMAT csv)",
                new java.io.StringReader("1,one\n2,\"t,wo\"\n3,\n"));
            expect(n, 3L, "rows COPY reports");
            try (Statement st = conn.createStatement()) {
                expect(rows(st.executeQuery("SELECT id, s FROM " + table + " ORDER BY id")),
                    List.of(row(1L, "one"), row(2L, "t,wo"), row(3L, null)), "rows copied");
            }
        });

        check("metadata_schemas", () -> {
            List<String> schemas = new java.util.ArrayList<>();
            try (ResultSet rs = conn.getMetaData().getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            if (!schemas.contains("public")) throw new AssertionError("getSchemas: " + schemas);
        });

        check("metadata_tables", () -> {
            try (ResultSet rs = conn.getMetaData().getTables(null, "public", TABLE, new String[] {"TABLE"})) {
                if (!rs.next()) throw new AssertionError("getTables found no " + TABLE);
                expect(rs.getString("TABLE_NAME"), TABLE, "table name");
                expect(rs.getString("TABLE_TYPE"), "TABLE", "table type");
            }
        });

        check("metadata_columns", () -> {
            List<List<Object>> cols = new java.util.ArrayList<>();
            try (ResultSet rs = conn.getMetaData().getColumns(null, "public", TABLE, "%")) {
                while (rs.next()) cols.add(List.of(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"), rs.getInt("DATA_TYPE"), rs.getInt("ORDINAL_POSITION")));
            }
            expect(cols, List.of(List.of("id", "int8", java.sql.Types.BIGINT, 1), List.of("a", "int8", java.sql.Types.BIGINT, 2),
                List.of("b", "int8", java.sql.Types.BIGINT, 3), List.of("s", "text", java.sql.Types.VARCHAR, 4)), "getColumns");
        });

        check("metadata_result_set", () -> {
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT id, s FROM " + TABLE + " WHERE 1 = 0")) {
                java.sql.ResultSetMetaData md = rs.getMetaData();
                expect(md.getColumnTypeName(1), "int8", "column 1 type");
                expect(md.getColumnTypeName(2), "text", "column 2 type");
            }
        });

        typeChecks();

        check("close", () -> conn.close());
        finish();
    }

    /**
     * typeChecks: pgjdbc's setBoolean (bool), setBigDecimal (numeric), setTimestamp and setDate
     * (untyped text with a UTC offset), setObject(LocalDateTime) (timestamp) and setBytes, six
     * times each so that the last executions run as a named statement with binary results.
     */
    static void typeChecks() {
        String t = "jdbc_types_" + UID;
        java.time.Instant at = java.time.Instant.parse("2024-05-02T00:00:00Z");
        java.time.LocalDateTime local = java.time.LocalDateTime.of(2024, 5, 2, 10, 0, 0);
        check("types_create", () -> {
            try (Statement st = conn.createStatement()) {
                st.execute("CREATE TABLE " + t + " (id int PRIMARY KEY, paid boolean, price numeric(10,2), at timestamptz, ts timestamp, d date, data bytea)");
            }
        });
        check("types_insert", () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + t + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, i);
                    ps.setBoolean(2, i % 2 == 1);
                    ps.setBigDecimal(3, new BigDecimal("9.50"));
                    ps.setTimestamp(4, java.sql.Timestamp.from(at));
                    ps.setObject(5, local);
                    ps.setDate(6, java.sql.Date.valueOf("2024-05-02"));
                    ps.setBytes(7, new byte[] {1, 2, (byte) 255});
                    expect(ps.executeUpdate(), 1, "update count of row " + i);
                }
            }
        });
        check("types_select", () -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM " + t + " WHERE paid = ?")) {
                for (int i = 0; i < 6; i++) {
                    ps.setBoolean(1, true);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        expect(rs.getLong(1), 3L, "rows with paid = true, execution " + (i + 1));
                    }
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT paid, price, at, ts, d, data, sum(price) OVER () FROM " + t + " WHERE id = ?")) {
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        expect(rs.getBoolean(1), i % 2 == 1, "paid, execution " + i);
                        expect(rs.getBigDecimal(2), new BigDecimal("9.50"), "price, execution " + i);
                        expect(rs.getString(2), "9.50", "price as text, execution " + i);
                        expect(rs.getTimestamp(3).toInstant(), at, "at, execution " + i);
                        expect(rs.getObject(4, java.time.LocalDateTime.class), local, "ts, execution " + i);
                        expect(rs.getDate(5).toString(), "2024-05-02", "d, execution " + i);
                        expect(Arrays.toString(rs.getBytes(6)), "[1, 2, -1]", "data, execution " + i);
                        expect(rs.getBigDecimal(7), new BigDecimal("9.50"), "sum(price) over the row, execution " + i);
                        expect(rs.getMetaData().getColumnTypeName(7), "numeric", "sum(price)'s type");
                    }
                }
            }
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT sum(price), avg(price) FROM " + t)) {
                rs.next();
                expect(rs.getBigDecimal(1), new BigDecimal("57.00"), "sum(price)");
                expect(rs.getBigDecimal(2), new BigDecimal("9.5000000000000000"), "avg(price)");
            }
        });
    }

    static void finish() {
        System.out.println(passed.size() + " passed, " + failed.size() + " failed");
        System.exit(failed.isEmpty() ? 0 : 1);
    }
}
