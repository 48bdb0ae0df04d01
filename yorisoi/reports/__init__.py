"""年度 statistics and the supervisor's audit: report model, layouts, and terminal/CSV/XLSX/JSON/SVG output."""
