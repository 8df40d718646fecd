#!/usr/bin/env bash
# The real-data result of docs/validation.md, rerun from scratch (npm run validate:sp500):
# a fresh embedded database, the S&P 500 closes of ../shared/data/sp500, the ten-stock book of
# docs/validation-book.csv, a backfill of 2024 (every stage), then `validate` of the risk model and
# of the book over the 250 trading days ending 2024-12-31. Takes tens of minutes on two cores.
# FU_DATA_DIR (default: a new temporary folder, removed at the end) and FU_PG_PORT (default 55433)
# keep it apart from any other database on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${FU_SHARED:-../shared/data/sp500}
if [ -z "${FU_DATA_DIR:-}" ]; then
  FU_DATA_DIR=$(mktemp -d -t fu-validation-XXXXXX)
  trap 'rm -rf "$FU_DATA_DIR"' EXIT
fi
export FU_DATA_DIR FU_PG_PORT=${FU_PG_PORT:-55433} FU_DUAL_WRITE=false
fu() { node bin/factor-universe.js "$@"; }
fu import prices "$SHARED/prices.csv.gz"
fu import companies "$SHARED/companies.csv"
FU_NEW_PASSWORD=validation-book-password fu users create analyst --replace
fu import portfolio docs/validation-book.csv --name "Mega-cap ten" --owner analyst --equity 1000000
fu batch backfill --from 2023-12-28 --to 2024-12-31
fu validate --date 2024-12-31 --window 250
echo
fu validate "Mega-cap ten" --date 2024-12-31 --window 250
