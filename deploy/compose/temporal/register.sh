#!/bin/sh
# The namespace and dbmigrate's search attributes (docs/temporal-cli.md). Safe to run again.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health; do sleep 2; done
temporal operator namespace describe -n "$ns" >/dev/null 2>&1 || temporal operator namespace create -n "$ns" --retention 30d
for name in MigrationId MigrationPhase SourceHost TargetHost; do
  if ! temporal operator search-attribute list -n "$ns" | grep -qw "$name"; then
    temporal operator search-attribute create -n "$ns" --name "$name" --type Keyword
  fi
done
temporal operator search-attribute list -n "$ns"
