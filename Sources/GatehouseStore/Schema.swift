internal import GRDB

/// The versioned schema. A registered migration never changes once released: add "v2" instead.
///
/// Times are UTC text `YYYY-MM-DD HH:MM:SS.SSS` (GRDB's `Date` format): they sort and compare as
/// text, with millisecond precision. Emails are stored lowercased.
enum Schema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: v1) }
        migrator.registerMigration("v2") { db in try db.execute(sql: v2) }
        migrator.registerMigration("v3") { db in try db.execute(sql: v3) }
        migrator.registerMigration("v4") { db in try db.execute(sql: v4) }
        migrator.registerMigration("v5") { db in try db.execute(sql: v5) }
        migrator.registerMigration("v6") { db in try db.execute(sql: v6) }
        migrator.registerMigration("v7") { db in try db.execute(sql: v7) }
        // Rebuilds tables; GRDB runs it with foreign keys off and checks them before committing.
        migrator.registerMigration("v8") { db in try db.execute(sql: v8) }
        migrator.registerMigration("v9") { db in try db.execute(sql: v9) }
        migrator.registerMigration("v10") { db in try db.execute(sql: v10) }
        return migrator
    }()

    static let v1 = """
        -- person: everyone who signed in at least once (directory people who never did are not
        -- here). is_external is from the tenant's domains at the last sign-in; a governed guest is
        -- an external person Gatehouse gave access to (only those are ever blocked or removed by
        -- the guest lifecycle); terms_* record the accepted terms of use.
        CREATE TABLE person (
            email TEXT PRIMARY KEY NOT NULL CHECK (email = lower(email)),
            display_name TEXT NOT NULL,
            is_external INTEGER NOT NULL CHECK (is_external IN (0, 1)),
            is_governed_guest INTEGER NOT NULL DEFAULT 0 CHECK (is_governed_guest IN (0, 1)),
            governed_guest_since TEXT,
            is_blocked INTEGER NOT NULL DEFAULT 0 CHECK (is_blocked IN (0, 1)),
            blocked_reason TEXT,
            terms_accepted_at TEXT,
            terms_version TEXT,
            first_sign_in_at TEXT NOT NULL,
            last_sign_in_at TEXT NOT NULL
        );

        -- session: a signed-in browser. id_hash is the hash of the cookie's random id, computed
        -- by the caller (the raw id is never stored). Valid while ended_at is NULL, now is before
        -- expires_at (absolute) and within the idle timeout of last_seen_at.
        CREATE TABLE session (
            id_hash TEXT PRIMARY KEY NOT NULL,
            email TEXT NOT NULL REFERENCES person(email) ON UPDATE CASCADE,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX session_by_email ON session(email);

        -- sign_in_code: one-time codes sent by email, stored hashed. Only the newest code of an
        -- address counts; wrong_attempts is capped by the caller's limit; used_at consumes it.
        CREATE TABLE sign_in_code (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL CHECK (email = lower(email)),
            code_hash TEXT NOT NULL,
            client_address TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            wrong_attempts INTEGER NOT NULL DEFAULT 0,
            used_at TEXT
        );
        CREATE INDEX sign_in_code_by_email ON sign_in_code(email, id);

        -- sign_in_code_request: every request for a code, counted per address and per client
        -- address over a recent window to rate-limit them; old rows may be pruned.
        CREATE TABLE sign_in_code_request (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL,
            client_address TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX sign_in_code_request_by_email ON sign_in_code_request(email, at);
        CREATE INDEX sign_in_code_request_by_client ON sign_in_code_request(client_address, at);

        -- request: one person asking to add, extend or remove one package through one policy,
        -- kept forever. id is the caller's; a replayed post carries the same idempotency_key and
        -- finds the first row. policy_snapshot (JSON) is the policy as it was when submitted, so a
        -- later model change does not alter a pending request; answers (JSON) are as the person
        -- saw them; current_stage is 1-based while pending approval.
        CREATE TABLE request (
            id TEXT PRIMARY KEY NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('add', 'extend', 'remove')),
            actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'admin', 'system')),
            requestor_email TEXT NOT NULL CHECK (requestor_email = lower(requestor_email)),
            package_id TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            policy_snapshot TEXT NOT NULL CHECK (json_valid(policy_snapshot)),
            language TEXT NOT NULL,
            justification TEXT NOT NULL,
            answers TEXT NOT NULL CHECK (json_valid(answers)),
            requested_start TEXT,
            requested_end TEXT,
            state TEXT NOT NULL CHECK (state IN ('submitted', 'pendingApproval', 'approved',
                'scheduled', 'delivering', 'delivered', 'partiallyDelivered', 'deliveryFailed',
                'denied', 'expired', 'canceled')),
            current_stage INTEGER,
            escalated INTEGER NOT NULL DEFAULT 0 CHECK (escalated IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX request_by_requestor ON request(requestor_email, created_at);
        CREATE INDEX request_by_package ON request(package_id, state);
        CREATE INDEX request_by_state ON request(state);

        -- decision: an approver's decision on one stage of a request. The primary key makes the
        -- first decision of a stage the only one: a concurrent second insert finds the winner.
        CREATE TABLE decision (
            request_id TEXT NOT NULL REFERENCES request(id),
            stage INTEGER NOT NULL CHECK (stage >= 1),
            approver_email TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
            justification TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (request_id, stage)
        );

        -- assignment: a person holding a package through a policy, from the request that gave it.
        -- ends_at is the planned end (NULL: never); ended_at and end_reason are set when it ends
        -- for any reason, and the row stays (state 'expired') for history.
        CREATE TABLE assignment (
            id TEXT PRIMARY KEY NOT NULL,
            request_id TEXT NOT NULL REFERENCES request(id),
            email TEXT NOT NULL CHECK (email = lower(email)),
            package_id TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('delivering', 'delivered', 'partiallyDelivered',
                'deliveryFailed', 'expired')),
            starts_at TEXT NOT NULL,
            ends_at TEXT,
            ended_at TEXT,
            end_reason TEXT
        );
        CREATE INDEX assignment_by_email ON assignment(email, state);
        CREATE INDEX assignment_by_package ON assignment(package_id, state);
        CREATE INDEX assignment_by_end ON assignment(ends_at) WHERE state != 'expired';

        -- resource_grant: one resource role an assignment grants. The built-in directory's
        -- membership of a resource is the union of the active grants of all assignments, so
        -- revoking one assignment's grant keeps a role another assignment still gives.
        CREATE TABLE resource_grant (
            id INTEGER PRIMARY KEY,
            assignment_id TEXT NOT NULL REFERENCES assignment(id),
            resource_id TEXT NOT NULL,
            role TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'failed', 'revoked')),
            updated_at TEXT NOT NULL,
            UNIQUE (assignment_id, resource_id, role)
        );
        CREATE INDEX resource_grant_by_resource ON resource_grant(resource_id, role, state);

        -- outbox: mail queued in the transaction of the change it reports, delivered later by a
        -- sender. Due when unsent and next_attempt_at <= now; next_attempt_at NULL on an unsent
        -- row means the sender gave up (last_error says why).
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            recipient TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            kind TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            sent_at TEXT,
            last_error TEXT
        );
        CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;

        -- audit: every state change (actor, time, subject, action, before -> after, reason).
        -- Append-only: the triggers below refuse any UPDATE or DELETE of a row.
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            action TEXT NOT NULL,
            value_before TEXT,
            value_after TEXT,
            reason TEXT
        );
        CREATE INDEX audit_by_subject ON audit(subject_kind, subject_id, id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be changed');
        END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be deleted');
        END;
        """

    /// Approvals: who decides each stage, when the current stage started, and when the sweep must
    /// look at a request again.
    static let v2 = """
        -- The current approval stage's clock (stage_started_at) and deadline, the reminders already sent in it,
        -- and next_check_at: the earliest instant the sweep has something to do for this request
        -- (a reminder, the escalation, the stage's deadline, or a scheduled start); NULL when none.
        ALTER TABLE request ADD COLUMN stage_started_at TEXT;
        ALTER TABLE request ADD COLUMN stage_deadline TEXT;
        ALTER TABLE request ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE request ADD COLUMN next_check_at TEXT;
        CREATE INDEX request_due ON request(next_check_at) WHERE next_check_at IS NOT NULL;

        -- approver: the people who may decide one stage of a request, resolved when the stage
        -- started (primary, or fallback when none was found) plus those an escalation added
        -- (alternate). Rows are kept after the stage ends: they say who was asked.
        CREATE TABLE approver (
            request_id TEXT NOT NULL REFERENCES request(id),
            stage INTEGER NOT NULL CHECK (stage >= 1),
            email TEXT NOT NULL CHECK (email = lower(email)),
            role TEXT NOT NULL CHECK (role IN ('primary', 'fallback', 'alternate')),
            added_at TEXT NOT NULL,
            PRIMARY KEY (request_id, stage, email)
        );
        CREATE INDEX approver_by_email ON approver(email, request_id, stage);
        CREATE INDEX decision_by_approver ON decision(approver_email, decided_at);

        -- proposed_organization: a connected organization Gatehouse proposed because an external
        -- person from an unknown domain was approved through an `anyone` policy (PRODUCT.md
        -- section 2). Admins turn it into a declared organization in site/ if they want to.
        CREATE TABLE proposed_organization (
            domain TEXT PRIMARY KEY NOT NULL CHECK (domain = lower(domain)),
            first_request_id TEXT NOT NULL REFERENCES request(id),
            created_at TEXT NOT NULL
        );

        -- Assignments that start later wait in 'delivering' until the sweep delivers them.
        CREATE INDEX assignment_waiting ON assignment(starts_at) WHERE state = 'delivering';
        """

    /// Lifecycle: when the sweep must look at an assignment (its end, or an extension reminder
    /// before it), and the extension reminders already sent for its current end.
    static let v3 = """
        ALTER TABLE assignment ADD COLUMN next_check_at TEXT;
        ALTER TABLE assignment ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX assignment_due ON assignment(next_check_at) WHERE next_check_at IS NOT NULL;
        -- The assignment an extend or remove request is about (NULL for add requests).
        ALTER TABLE request ADD COLUMN assignment_id TEXT REFERENCES assignment(id);
        -- Assignments delivered before this version are looked at by the next sweep, which plans
        -- their reminders and end.
        UPDATE assignment SET next_check_at = starts_at WHERE state != 'expired' AND ends_at IS NOT NULL;
        """

    /// Connectors and the guest lifecycle: delivery attempts per grant, and what happens to a
    /// governed guest after their last assignment.
    static let v4 = """
        -- A grant's delivery through its resource's command connector: attempts so far, when to
        -- try again (NULL: not planned), and the connector's last error. The built-in directory
        -- needs no attempt: an 'active' grant is in it.
        ALTER TABLE resource_grant ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE resource_grant ADD COLUMN next_attempt_at TEXT;
        ALTER TABLE resource_grant ADD COLUMN last_error TEXT;
        CREATE INDEX resource_grant_retry ON resource_grant(next_attempt_at) WHERE next_attempt_at IS NOT NULL;

        -- Guest lifecycle, decided with the tenant settings in force when the guest lost their last
        -- assignment (later setting changes are not retroactive): when that was, when the person is
        -- to be removed (NULL: never) and when they were.
        ALTER TABLE person ADD COLUMN lost_last_assignment_at TEXT;
        ALTER TABLE person ADD COLUMN remove_at TEXT;
        ALTER TABLE person ADD COLUMN removed_at TEXT;
        CREATE INDEX person_removal ON person(remove_at) WHERE remove_at IS NOT NULL AND removed_at IS NULL;
        """

    /// The history page and the submit checks read a person's requests by these columns only: a
    /// covering index answers them without touching the rows and their large JSON columns.
    static let v5 = """
        DROP INDEX request_by_requestor;
        CREATE INDEX request_by_requestor ON request(requestor_email, created_at, state, package_id, policy_id, updated_at, id);
        """

    /// Ending or extending an assignment looks up its extend and remove requests: without this
    /// index each lookup scanned every request (the lifecycle sweep over 10,000 expiries crawled).
    static let v6 = """
        CREATE INDEX request_by_assignment ON request(assignment_id) WHERE assignment_id IS NOT NULL;
        """

    /// The mail sender takes the due sign-in codes before the rest of a backlog.
    static let v7 = """
        CREATE INDEX outbox_due_by_kind ON outbox(kind, next_attempt_at) WHERE sent_at IS NULL;
        """

    /// Every row a submission writes costs less: SQLite checks `x IN ('a', 'b', 'c')` by building
    /// a temporary b-tree on every insert and update, so the enumerated CHECKs of request,
    /// assignment, resource_grant and approver become chains of comparisons (same rules; the
    /// tables are rebuilt, the SQLite way: new table, copy, drop, rename, indexes).
    ///
    /// Indexes: request_by_state and assignment_by_end served no query and are gone; audit and
    /// outbox number their rows without AUTOINCREMENT (their rows are never deleted). Idempotency
    /// keys lose their unique index: a person's key is looked up among their requests since the
    /// key's time, and the insert after the look is safe because writes are serialized
    /// (`StoreWriter.insertRequest`).
    ///
    /// Reads: person and session become WITHOUT ROWID tables, so finding one by its key is one
    /// b-tree descent instead of an index descent and then a table descent. A request carries its
    /// last decision's time (`decided_at`, kept by a trigger on decision) in the index the history
    /// page reads, which answered it with one decision lookup per row; that index puts the id
    /// right after the time, so the page reads it newest first without sorting.
    static let v8 = """
        CREATE TABLE person_v8 (
            email TEXT PRIMARY KEY NOT NULL CHECK (email = lower(email)),
            display_name TEXT NOT NULL,
            is_external INTEGER NOT NULL CHECK (is_external IN (0, 1)),
            is_governed_guest INTEGER NOT NULL DEFAULT 0 CHECK (is_governed_guest IN (0, 1)),
            governed_guest_since TEXT,
            is_blocked INTEGER NOT NULL DEFAULT 0 CHECK (is_blocked IN (0, 1)),
            blocked_reason TEXT,
            terms_accepted_at TEXT,
            terms_version TEXT,
            first_sign_in_at TEXT NOT NULL,
            last_sign_in_at TEXT NOT NULL,
            lost_last_assignment_at TEXT,
            remove_at TEXT,
            removed_at TEXT
        ) WITHOUT ROWID;
        INSERT INTO person_v8 (email, display_name, is_external, is_governed_guest, governed_guest_since, is_blocked,
            blocked_reason, terms_accepted_at, terms_version, first_sign_in_at, last_sign_in_at, lost_last_assignment_at,
            remove_at, removed_at)
        SELECT email, display_name, is_external, is_governed_guest, governed_guest_since, is_blocked,
            blocked_reason, terms_accepted_at, terms_version, first_sign_in_at, last_sign_in_at, lost_last_assignment_at,
            remove_at, removed_at
        FROM person;
        DROP TABLE person;
        ALTER TABLE person_v8 RENAME TO person;
        CREATE INDEX person_removal ON person(remove_at) WHERE remove_at IS NOT NULL AND removed_at IS NULL;

        CREATE TABLE session_v8 (
            id_hash TEXT PRIMARY KEY NOT NULL,
            email TEXT NOT NULL REFERENCES person(email) ON UPDATE CASCADE,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        ) WITHOUT ROWID;
        INSERT INTO session_v8 (id_hash, email, created_at, last_seen_at, expires_at, ended_at)
        SELECT id_hash, email, created_at, last_seen_at, expires_at, ended_at FROM session;
        DROP TABLE session;
        ALTER TABLE session_v8 RENAME TO session;
        CREATE INDEX session_by_email ON session(email);

        CREATE TABLE request_v8 (
            id TEXT PRIMARY KEY NOT NULL,
            idempotency_key TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind = 'add' OR kind = 'extend' OR kind = 'remove'),
            actor_kind TEXT NOT NULL CHECK (actor_kind = 'user' OR actor_kind = 'admin' OR actor_kind = 'system'),
            requestor_email TEXT NOT NULL CHECK (requestor_email = lower(requestor_email)),
            package_id TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            policy_snapshot TEXT NOT NULL CHECK (json_valid(policy_snapshot)),
            language TEXT NOT NULL,
            justification TEXT NOT NULL,
            answers TEXT NOT NULL CHECK (json_valid(answers)),
            requested_start TEXT,
            requested_end TEXT,
            state TEXT NOT NULL CHECK (state = 'submitted' OR state = 'pendingApproval' OR state = 'approved'
                OR state = 'scheduled' OR state = 'delivering' OR state = 'delivered' OR state = 'partiallyDelivered'
                OR state = 'deliveryFailed' OR state = 'denied' OR state = 'expired' OR state = 'canceled'),
            current_stage INTEGER,
            escalated INTEGER NOT NULL DEFAULT 0 CHECK (escalated IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            stage_started_at TEXT,
            stage_deadline TEXT,
            reminders_sent INTEGER NOT NULL DEFAULT 0,
            next_check_at TEXT,
            assignment_id TEXT REFERENCES assignment(id),
            decided_at TEXT
        );
        INSERT INTO request_v8 (id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
            policy_snapshot, language, justification, answers, requested_start, requested_end, state, current_stage,
            escalated, created_at, updated_at, stage_started_at, stage_deadline, reminders_sent, next_check_at, assignment_id,
            decided_at)
        SELECT id, idempotency_key, kind, actor_kind, requestor_email, package_id, policy_id,
            policy_snapshot, language, justification, answers, requested_start, requested_end, state, current_stage,
            escalated, created_at, updated_at, stage_started_at, stage_deadline, reminders_sent, next_check_at, assignment_id,
            (SELECT d.decided_at FROM decision d WHERE d.request_id = request.id ORDER BY d.stage DESC LIMIT 1)
        FROM request ORDER BY rowid;
        DROP TABLE request;
        ALTER TABLE request_v8 RENAME TO request;
        -- decided_at: when the decision of the request's highest decided stage was made.
        CREATE TRIGGER decision_sets_decided_at AFTER INSERT ON decision
        BEGIN
            UPDATE request SET decided_at = NEW.decided_at
            WHERE id = NEW.request_id
                AND NOT EXISTS (SELECT 1 FROM decision d WHERE d.request_id = NEW.request_id AND d.stage > NEW.stage);
        END;
        CREATE INDEX request_by_requestor ON request(requestor_email, created_at, id, state, package_id, policy_id, updated_at,
            decided_at);
        CREATE INDEX request_by_package ON request(package_id, state);
        CREATE INDEX request_due ON request(next_check_at) WHERE next_check_at IS NOT NULL;
        CREATE INDEX request_by_assignment ON request(assignment_id) WHERE assignment_id IS NOT NULL;

        CREATE TABLE assignment_v8 (
            id TEXT PRIMARY KEY NOT NULL,
            request_id TEXT NOT NULL REFERENCES request(id),
            email TEXT NOT NULL CHECK (email = lower(email)),
            package_id TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state = 'delivering' OR state = 'delivered' OR state = 'partiallyDelivered'
                OR state = 'deliveryFailed' OR state = 'expired'),
            starts_at TEXT NOT NULL,
            ends_at TEXT,
            ended_at TEXT,
            end_reason TEXT,
            next_check_at TEXT,
            reminders_sent INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO assignment_v8 (id, request_id, email, package_id, policy_id, state, starts_at, ends_at, ended_at,
            end_reason, next_check_at, reminders_sent)
        SELECT id, request_id, email, package_id, policy_id, state, starts_at, ends_at, ended_at,
            end_reason, next_check_at, reminders_sent
        FROM assignment ORDER BY rowid;
        DROP TABLE assignment;
        ALTER TABLE assignment_v8 RENAME TO assignment;
        CREATE INDEX assignment_by_email ON assignment(email, state);
        CREATE INDEX assignment_by_package ON assignment(package_id, state);
        CREATE INDEX assignment_waiting ON assignment(starts_at) WHERE state = 'delivering';
        CREATE INDEX assignment_due ON assignment(next_check_at) WHERE next_check_at IS NOT NULL;

        CREATE TABLE resource_grant_v8 (
            id INTEGER PRIMARY KEY,
            assignment_id TEXT NOT NULL REFERENCES assignment(id),
            resource_id TEXT NOT NULL,
            role TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state = 'pending' OR state = 'active' OR state = 'failed' OR state = 'revoked'),
            updated_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            UNIQUE (assignment_id, resource_id, role)
        );
        INSERT INTO resource_grant_v8 (id, assignment_id, resource_id, role, state, updated_at, attempts,
            next_attempt_at, last_error)
        SELECT id, assignment_id, resource_id, role, state, updated_at, attempts, next_attempt_at, last_error
        FROM resource_grant ORDER BY id;
        DROP TABLE resource_grant;
        ALTER TABLE resource_grant_v8 RENAME TO resource_grant;
        CREATE INDEX resource_grant_by_resource ON resource_grant(resource_id, role, state);
        CREATE INDEX resource_grant_retry ON resource_grant(next_attempt_at) WHERE next_attempt_at IS NOT NULL;

        CREATE TABLE approver_v8 (
            request_id TEXT NOT NULL REFERENCES request(id),
            stage INTEGER NOT NULL CHECK (stage >= 1),
            email TEXT NOT NULL CHECK (email = lower(email)),
            role TEXT NOT NULL CHECK (role = 'primary' OR role = 'fallback' OR role = 'alternate'),
            added_at TEXT NOT NULL,
            PRIMARY KEY (request_id, stage, email)
        );
        INSERT INTO approver_v8 (request_id, stage, email, role, added_at)
        SELECT request_id, stage, email, role, added_at FROM approver ORDER BY rowid;
        DROP TABLE approver;
        ALTER TABLE approver_v8 RENAME TO approver;
        CREATE INDEX approver_by_email ON approver(email, request_id, stage);

        -- audit and outbox rows are never deleted, so a plain INTEGER PRIMARY KEY numbers them as
        -- AUTOINCREMENT did, without updating sqlite_sequence on every insert (four per submission).
        CREATE TABLE audit_v8 (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            action TEXT NOT NULL,
            value_before TEXT,
            value_after TEXT,
            reason TEXT
        );
        INSERT INTO audit_v8 (id, at, actor, subject_kind, subject_id, action, value_before, value_after, reason)
        SELECT id, at, actor, subject_kind, subject_id, action, value_before, value_after, reason FROM audit ORDER BY id;
        DROP TABLE audit;
        ALTER TABLE audit_v8 RENAME TO audit;
        CREATE INDEX audit_by_subject ON audit(subject_kind, subject_id, id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be changed');
        END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be deleted');
        END;

        CREATE TABLE outbox_v8 (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            recipient TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            kind TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            sent_at TEXT,
            last_error TEXT
        );
        INSERT INTO outbox_v8 (id, created_at, recipient, subject, body, kind, attempts, next_attempt_at, sent_at, last_error)
        SELECT id, created_at, recipient, subject, body, kind, attempts, next_attempt_at, sent_at, last_error
        FROM outbox ORDER BY id;
        DROP TABLE outbox;
        ALTER TABLE outbox_v8 RENAME TO outbox;
        CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;
        -- Due sign-in codes apart from the notifications (v7's index by kind held every unsent row).
        CREATE INDEX outbox_codes_due ON outbox(next_attempt_at) WHERE sent_at IS NULL AND kind = 'signInCode';
        """

    /// Requests by package only while they wait for a decision. The index of every request by
    /// (package, state) was written by every submission, in the middle of the tree (one range per
    /// package and state), for two readers: the admin page's waiting requests, which this partial
    /// index answers, and "has this package any request at all", asked only of a package the model
    /// no longer has (``StoreReader/hasRequests(packageID:)``). bench-handler: half a page less
    /// per submission written to the WAL, and about a twelfth less writer CPU.
    static let v9 = """
        DROP INDEX request_by_package;
        CREATE INDEX request_waiting_by_package ON request(package_id, created_at, id)
            WHERE state = 'submitted' OR state = 'pendingApproval';
        """

    /// Request forms posted by someone not (or no longer) signed in, kept while they sign in so
    /// that what they typed is not lost: found by the hash of a random token in the link they are
    /// sent back to, opened only in the browser that posted it (`browser_hash`: the hash of a
    /// random cookie), claimed by the first person who opens it signed in, gone after an hour (the
    /// sweep deletes expired ones; a submission deletes its own). `client` is the posting
    /// address, for a limit on drafts per address.
    static let v10 = """
        CREATE TABLE form_draft (
            token_hash TEXT PRIMARY KEY NOT NULL,
            package_id TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            language TEXT NOT NULL,
            fields TEXT NOT NULL CHECK (json_valid(fields)),
            client TEXT NOT NULL,
            browser_hash TEXT NOT NULL,
            owner_email TEXT CHECK (owner_email = lower(owner_email)),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX form_draft_by_client ON form_draft(client, created_at);
        CREATE INDEX form_draft_by_expiry ON form_draft(expires_at);
        """
}
