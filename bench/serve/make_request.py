#!/usr/bin/env python3
"""Writes a v2 infer request body of N rows taken from a CSV with a header naming the fields
(the output of `clickprompt data export`), for the model whose metadata is in META (JSON)."""
import csv, json, sys

meta_path, csv_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = [i["name"] for i in json.load(open(meta_path))["inputs"]]
cols = {k: [] for k in names}
with open(csv_path, newline="", encoding="utf-8") as f:
    for i, row in enumerate(csv.DictReader(f)):
        if i >= n:
            break
        for k in names:
            cols[k].append(row[k])
print(json.dumps({"inputs": [{"name": k, "datatype": "BYTES", "shape": [len(v)], "data": v} for k, v in cols.items()]}))
