"""SQLAlchemy's inspector over each database URL given (postgresql+psycopg2://...): every
schema's tables, columns, keys, indexes, constraints and views, as JSON, one document per URL,
each followed by a line "=== end". Run by integration/proxy_clients_test.go, which compares the
documents of PostgreSQL directly and of wasql's proxy."""

import json
import sys

import sqlalchemy
from sqlalchemy import create_engine, inspect


def describe(url):
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        doc = {"sqlalchemy": sqlalchemy.__version__, "schemas": {}}
        schemas = insp.get_schema_names()
        doc["schema_names"] = schemas
        for schema in schemas:
            if schema == "information_schema":
                continue
            s = {"tables": {}, "views": {}}
            for table in insp.get_table_names(schema=schema):
                s["tables"][table] = {
                    "columns": insp.get_columns(table, schema=schema),
                    "pk": insp.get_pk_constraint(table, schema=schema),
                    "foreign_keys": insp.get_foreign_keys(table, schema=schema),
                    "indexes": insp.get_indexes(table, schema=schema),
                    "unique": insp.get_unique_constraints(table, schema=schema),
                    "checks": insp.get_check_constraints(table, schema=schema),
                    "comment": insp.get_table_comment(table, schema=schema),
                }
            for view in insp.get_view_names(schema=schema):
                s["views"][view] = {
                    "definition": insp.get_view_definition(view, schema=schema),
                    "columns": insp.get_columns(view, schema=schema),
                }
            s["sequences"] = insp.get_sequence_names(schema=schema)
            doc["schemas"][schema] = s
        return doc
    finally:
        engine.dispose()


for url in sys.argv[1:]:
    print(json.dumps(describe(url), indent=1, sort_keys=True, default=repr))
    print("=== end")
