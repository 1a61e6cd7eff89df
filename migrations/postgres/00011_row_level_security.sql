-- Tenant isolation enforced by PostgreSQL itself, as defence in depth beneath every store's
-- WHERE tenant_id = ?. Every table with a tenant_id column (and tenants itself, by id) gets row-level
-- security, enabled and forced, so it binds the table owner too; only superusers and roles with
-- BYPASSRLS escape it, and the server must connect as neither (README, "Production deployment").
--
-- Two permissive policies, either of which admits a row (for reading and for writing):
--   tenant_isolation  the row's tenant is the session setting parley.tenant_id, which the server
--                     sets from each statement's context (SET LOCAL inside a transaction);
--   across_tenants    parley.all_tenants is 'on': the one narrow path for work that spans tenants
--                     (SECURITY.md lists its callers).
-- Without either setting a statement sees no tenant's rows and cannot write any.
-- Tables without tenant_id hold installation data only (sign-in throttling, CAPTCHA, signing keys,
-- migration and lease bookkeeping) and are left as they are.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    t   text;
    col text;
BEGIN
    FOR t, col IN
        SELECT c.table_name, 'tenant_id' FROM information_schema.columns c
          JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
         WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
        UNION ALL SELECT 'tenants', 'id'
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (%I = current_setting(''parley.tenant_id'', true)) WITH CHECK (%I = current_setting(''parley.tenant_id'', true))', t, col, col);
        EXECUTE format('CREATE POLICY across_tenants ON %I USING (current_setting(''parley.all_tenants'', true) = ''on'') WITH CHECK (current_setting(''parley.all_tenants'', true) = ''on'')', t);
    END LOOP;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relrowsecurity
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
        EXECUTE format('DROP POLICY IF EXISTS across_tenants ON %I', t);
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
-- +goose StatementEnd
