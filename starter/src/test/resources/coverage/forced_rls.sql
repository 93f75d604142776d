-- FORCE ROW LEVEL SECURITY with a tenant policy: the policy applies to the owner too, so the copy and the validation
-- would see only one tenant's rows.
-- setup
CREATE TABLE tenants (id int PRIMARY KEY, tenant text NOT NULL);
INSERT INTO tenants SELECT i, 'tenant' || i % 2 FROM generate_series(1, 10) i;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY one_tenant ON tenants USING (tenant = current_setting('app.tenant', true));
