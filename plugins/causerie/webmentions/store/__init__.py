"""The mention store: its tables, migrations, writer process and imports."""
