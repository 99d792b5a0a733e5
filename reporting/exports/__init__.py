"""The data handover (数据交接) of issue 8: one download with all of an engagement's data, as an
XLSX workbook or a ZIP of CSV files, recorded as an `ExportRecord`.

`tables.py` says what the handover holds (the tables, their bilingual headers, the brand and
internal audiences) and reads it in bounded memory; `writers.py` writes the two formats
(formula-safe text, numbers as numbers, deterministic bytes); `services.py` holds who may take
what, the file name, `export_create` (write and record) and the history. The page is
`reporting/views/exports.py`, the command `manage.py export_engagement`.
"""
