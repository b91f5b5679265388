/*
 * schema: the two schemas. access_control (created by CREATE EXTENSION)
 * holds exactly the public API; access_control_internal holds what only
 * the extension itself calls or reads: helper functions, trigger functions
 * and the cache sentinels. It is on nobody's search_path and PUBLIC has no
 * privilege on it; the SECURITY DEFINER functions, owned by the superuser
 * who created the extension, reach it.
 *
 * The install script is built from the pieces in sql/install/, in the
 * order the Makefile lists (INSTALL_PIECES); edit those, never the built
 * script.
 */

\echo Use "CREATE EXTENSION access_control" to load this file. \quit

GRANT USAGE ON SCHEMA access_control TO PUBLIC;

CREATE SCHEMA access_control_internal;
REVOKE ALL ON SCHEMA access_control_internal FROM PUBLIC;
COMMENT ON SCHEMA access_control_internal IS 'Internals of the access_control extension: not an API';
