/**
 * The payload codec that keeps plans, statuses, errors and reports encrypted in Temporal's history. Client-side
 * plumbing for the worker and the CLI only: workflow code never uses it (the SDK applies it below the workflow).
 */
package io.dbmigrate.workflows.codec;
