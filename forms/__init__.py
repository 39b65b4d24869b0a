"""The low-code form layer: definitions, expressions, answers; no Flask, no database."""
