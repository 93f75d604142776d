/** Deterministic workflow code, plan and status records. */
package io.dbmigrate.workflows;
