/*
 * schema: the guard line and the privileges on the extension's schema. The
 * install script is built from the pieces in sql/install/, in the order the
 * Makefile lists (INSTALL_PIECES); edit those, never the built script.
 */

\echo Use "CREATE EXTENSION access_control" to load this file. \quit

GRANT USAGE ON SCHEMA access_control TO PUBLIC;
