# Prints the statements of an install script that an upgrade script can
# run again over an older install: every function and view definition as
# CREATE OR REPLACE, every COMMENT, GRANT and REVOKE. Tables, triggers, DO
# blocks and the rows the install script writes are left out: an upgrade
# script changes those itself.
#
# A statement starts at a line that begins with a keyword and ends at the
# first line ending in ";" outside a $$ body; comments between statements
# are left out.
function dollars(line,    n) {
    n = gsub(/\$\$/, "&", line)
    return n
}
BEGIN { in_stmt = 0; in_body = 0; in_comment = 0 }
{
    if (!in_stmt) {
        if (in_comment) {
            if ($0 ~ /\*\//) in_comment = 0
            next
        }
        if ($0 ~ /^\/\*/) {
            if ($0 !~ /\*\//) in_comment = 1
            next
        }
        if ($0 !~ /^[A-Z]/) next
        keep = ($0 ~ /^(CREATE FUNCTION|CREATE VIEW|COMMENT ON|GRANT|REVOKE)/)
        in_stmt = 1
        if (keep) {
            sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION")
            sub(/^CREATE VIEW/, "CREATE OR REPLACE VIEW")
        }
    }
    if (keep) print
    if (dollars($0) % 2 == 1) in_body = !in_body
    if (!in_body && $0 ~ /;[ \t]*$/) {
        in_stmt = 0
        if (keep) print ""
    }
}
