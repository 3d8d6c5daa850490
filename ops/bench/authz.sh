#!/usr/bin/env bash
# Authorization decision latency against the number of tenants.
#
# Builds yui-authz's benchmark in release (cargo's bench profile) and prints one table
# row per size (10, 100 and 1,800 tenants; 5 roles x 20 permissions per tenant; 10,000
# accounts; 100,000 random requests): p50/p99 per decision of the decision index, and
# plain casbin enforce() on a sample of the same requests for comparison (casbin scans
# every rule, so it is sampled: 1,000 / 200 / 20 requests).
#
# Arguments go to the benchmark: --sizes 10,100,1800  --requests 100000  --casbin 1000,200,20
# (a casbin sample of 0 skips it). A cold release build takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo bench --quiet -p yui-authz --bench authz -- "$@"
