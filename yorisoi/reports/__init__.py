"""年度 statistics and the supervisor's audit: report model, layouts, terminal/CSV/XLSX/JSON/SVG."""
