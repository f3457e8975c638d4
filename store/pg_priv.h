/*
 * NAME
 *	pg_priv - what store/pg.c and store/pg_schema.c share
 * SUMMARY
 *	The schema's text for the connection's migration steps.  Not for
 *	use outside store/pg*.c.
 * RETURNS
 *	See each declaration.
 * UNTRUSTED INPUT
 *	None.
 */
#ifndef SG_PG_PRIV_H
#define SG_PG_PRIV_H

/*
 * pg_schema_sql - step v (1 to PG_SCHEMA_LATEST) of the schema with its
 * prelude (the migration lock) and its version row; allocated, NULL when
 * out of memory
 */
char *pg_schema_sql(int v);

#endif
