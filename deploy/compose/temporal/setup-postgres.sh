#!/bin/sh
# Temporal's databases on its own PostgreSQL: created once, schemas brought to this admin-tools version (idempotent).
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep temporal-postgresql -p 5432 -u temporal "$@"; }
for db in temporal temporal_visibility; do
  tool --db "$db" create || true # already there on a restart
done
tool --db temporal setup-schema -v 0.0
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
