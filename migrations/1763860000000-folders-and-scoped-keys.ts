import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Folders (R8): a tree per organisation, every signing request in exactly one folder, and a default folder
 * per organisation that takes requests created without a folder (and every request that existed before).
 *
 * API keys become scoped: optionally to one folder (and its subfolders), and to permissions:
 * `view` (read requests), `send` (create and act on requests), `admin` (folders and API keys).
 * Existing keys keep what they could do: the whole organisation, every permission.
 */
export class FoldersAndScopedKeys1763860000000 implements MigrationInterface {
  name = 'FoldersAndScopedKeys1763860000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE folders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        parent_id uuid REFERENCES folders (id) ON DELETE RESTRICT,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (NOT is_default OR parent_id IS NULL)
      )`);
    // Sibling names are unique (top-level ones too: NULLS NOT DISTINCT); one default folder per organisation.
    await db.query(`CREATE UNIQUE INDEX folders_sibling_name_key ON folders (organization_id, parent_id, lower(name)) NULLS NOT DISTINCT`);
    await db.query(`CREATE UNIQUE INDEX folders_default_key ON folders (organization_id) WHERE is_default`);
    await db.query(`CREATE INDEX folders_parent_idx ON folders (parent_id)`);
    await db.query(`INSERT INTO folders (organization_id, name, is_default) SELECT id, 'Shared', true FROM organizations`);

    await db.query(`ALTER TABLE signing_requests ADD COLUMN folder_id uuid REFERENCES folders (id) ON DELETE RESTRICT`);
    await db.query(`
      UPDATE signing_requests r SET folder_id = f.id
        FROM folders f WHERE f.organization_id = r.organization_id AND f.is_default`);
    await db.query(`ALTER TABLE signing_requests ALTER COLUMN folder_id SET NOT NULL`);
    await db.query(`CREATE INDEX signing_requests_folder_idx ON signing_requests (folder_id, created_at DESC, id DESC)`);

    await db.query(`
      ALTER TABLE api_keys
        ADD COLUMN folder_id uuid REFERENCES folders (id) ON DELETE CASCADE,
        ADD COLUMN permissions text[] NOT NULL DEFAULT '{view,send,admin}'
          CHECK (permissions <@ '{view,send,admin}'::text[] AND cardinality(permissions) > 0)`);
    await db.query(`ALTER TABLE api_keys ALTER COLUMN permissions DROP DEFAULT`);
  }

  async down(): Promise<void> {
    throw new Error('migrations are forward-only');
  }
}
