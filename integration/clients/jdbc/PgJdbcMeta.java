import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * pgjdbc's DatabaseMetaData over each JDBC URL given: tables, columns, keys, indexes, functions,
 * procedures, types and schemas of the schemas app and public, printed row by row, one report
 * per URL, each followed by a line "=== end". Run by integration/proxy_clients_test.go, which
 * compares the reports of PostgreSQL directly and of wasql's proxy.
 */
public class PgJdbcMeta {
    static StringBuilder out;

    static void print(String title, ResultSet rs) throws SQLException {
        out.append("## ").append(title).append('\n');
        ResultSetMetaData md = rs.getMetaData();
        StringBuilder h = new StringBuilder();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            h.append(i > 1 ? " | " : "").append(md.getColumnLabel(i)).append(':').append(md.getColumnTypeName(i));
        }
        out.append(h).append('\n');
        int n = 0;
        while (rs.next()) {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                b.append(i > 1 ? " | " : "").append(rs.getString(i));
            }
            out.append(b).append('\n');
            n++;
        }
        out.append("(").append(n).append(" rows)\n");
        rs.close();
    }

    static String report(String url) throws SQLException {
        out = new StringBuilder();
        try (Connection c = DriverManager.getConnection(url)) {
            DatabaseMetaData md = c.getMetaData();
            out.append(md.getDatabaseProductName()).append(' ').append(md.getDatabaseProductVersion())
                .append(", ").append(md.getDriverName()).append(' ').append(md.getDriverVersion()).append('\n');
            out.append("user ").append(md.getUserName()).append(", catalog ").append(c.getCatalog())
                .append(", schema ").append(c.getSchema()).append('\n');
            print("getSchemas", md.getSchemas());
            print("getCatalogs", md.getCatalogs());
            print("getTableTypes", md.getTableTypes());
            print("getTables all schemas, TABLE VIEW", md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"}));
            List<String[]> tables = new ArrayList<>();
            for (String schema : new String[] {"app", "public"}) {
                ResultSet rs = md.getTables(null, schema, "%", null);
                print("getTables " + schema, rs);
                rs = md.getTables(null, schema, "%", new String[] {"TABLE", "PARTITIONED TABLE"});
                while (rs.next()) {
                    tables.add(new String[] {schema, rs.getString("TABLE_NAME")});
                }
                rs.close();
                print("getColumns " + schema, md.getColumns(null, schema, "%", "%"));
                print("getFunctions " + schema, md.getFunctions(null, schema, "%"));
                print("getFunctionColumns " + schema, md.getFunctionColumns(null, schema, "%", "%"));
                print("getProcedures " + schema, md.getProcedures(null, schema, "%"));
                print("getProcedureColumns " + schema, md.getProcedureColumns(null, schema, "%", "%"));
                print("getUDTs " + schema, md.getUDTs(null, schema, "%", null));
                print("getTablePrivileges " + schema, md.getTablePrivileges(null, schema, "%"));
            }
            for (String[] t : tables) {
                String name = t[0] + "." + t[1];
                print("getPrimaryKeys " + name, md.getPrimaryKeys(null, t[0], t[1]));
                print("getIndexInfo " + name, md.getIndexInfo(null, t[0], t[1], false, true));
                print("getIndexInfo unique " + name, md.getIndexInfo(null, t[0], t[1], true, true));
                print("getImportedKeys " + name, md.getImportedKeys(null, t[0], t[1]));
                print("getExportedKeys " + name, md.getExportedKeys(null, t[0], t[1]));
                print("getBestRowIdentifier " + name, md.getBestRowIdentifier(null, t[0], t[1], DatabaseMetaData.bestRowSession, true));
                print("getColumnPrivileges " + name, md.getColumnPrivileges(null, t[0], t[1], "%"));
            }
            print("getCrossReference app.customers app.orders", md.getCrossReference(null, "app", "customers", null, "app", "orders"));
            print("getTypeInfo", md.getTypeInfo());
            print("getClientInfoProperties", md.getClientInfoProperties());
            out.append("keywords ").append(md.getSQLKeywords()).append('\n');
            out.append("numeric functions ").append(md.getNumericFunctions()).append('\n');
            out.append("identifier quote ").append(md.getIdentifierQuoteString()).append('\n');
            out.append("max column name ").append(md.getMaxColumnNameLength()).append('\n');
        }
        return out.toString();
    }

    public static void main(String[] args) throws Exception {
        for (String url : args) {
            System.out.print(report(url));
            System.out.println("=== end");
        }
    }
}
