"""A municipality's own records in and out: XLSX/CSV workbooks read through the case service.

- `layout`: the workbook — one sheet per kind of record, its columns with Japanese headers,
  their aliases and how each value is read; declared once, used by the reader, the template,
  the export and the failed-rows file.
- `values`: reading a cell as staff write it (和暦, full-width, labels or codes, stray spaces).
- `reader`: sheets and header rows found in an XLSX or CSV file (a mapping file names a
  municipality's own sheets and columns), rows read into values with every problem kept.
- `plan`: the rows of each case (台帳番号) in the order things happened, each with the key
  that makes its import happen once.
- `runner`: the plan run in batches of whole cases, one transaction each; `--dry-run` runs it
  all and rolls every batch back. `steps` fires each case's steps through the case service,
  `outcome` tallies what became of every row.
- `failed`, `template`, `export`: the workbooks written back out; `uploads`: files kept
  between the web page's dry run and its confirmation.
"""
