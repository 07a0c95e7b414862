"""Storage behind one small interface: SQLite by default, PostgreSQL through DATABASE_URL."""
