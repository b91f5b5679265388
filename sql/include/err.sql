-- err(q) runs the statement q and shows how it ended: 'no error', or the
-- SQLSTATE and message of the error it raised, with its hint. Tests that
-- show an error's code include this file (\i sql/include/err.sql) and drop
-- the function at their end; the others let psql print the ERROR.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg || CASE WHEN hint <> '' THEN E'\n       HINT: ' || hint ELSE '' END;
END $$;
