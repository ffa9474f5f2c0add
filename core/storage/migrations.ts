// Numbered schema migrations, applied in order and recorded in PRAGMA user_version.
// Append only: a released migration is never edited, a change is a new entry.
export interface Migration {
  version: number
  description: string
  sql: string
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'messages, queues and queue entries, retained messages; MQTT sessions (subscriptions, wills, incoming QoS 2)',
    sql: `
      -- A message is stored once and referenced by every queue entry routed to it; refs counts the
      -- entries, and the row is deleted together with the last one.
      CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        topic         TEXT    NOT NULL,            -- MQTT topic as published ('/' separated)
        payload       BLOB    NOT NULL,            -- raw bytes (TEXT when published as a string)
        payload_bytes INTEGER NOT NULL,
        qos           INTEGER NOT NULL,
        retain        INTEGER NOT NULL,
        properties    TEXT,                        -- JSON of further publish fields (MQTT 5 properties, expiry, ...); NULL when none
        origin_id     TEXT,                        -- publishing node + its counter: how aedes names a message
        origin_seq    INTEGER NOT NULL,            --   (brokerId, brokerCounter)
        refs          INTEGER NOT NULL,
        created_ms    INTEGER NOT NULL
      );

      CREATE TABLE queues (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL UNIQUE,        -- MQTT sessions: 'mqtt-session/<client id>'
        created_ms INTEGER NOT NULL
      );

      -- FIFO of message references per queue, in seq order. No foreign keys: a checked reference to
      -- messages would cost a lookup (and an index on message_id) on every delete.
      CREATE TABLE queue_entries (
        queue_id       INTEGER NOT NULL,
        seq            INTEGER NOT NULL,
        message_id     INTEGER,                    -- NULL once the entry is only a PUBREL marker
        origin_seq     INTEGER NOT NULL,           -- copy of messages.origin_seq, to find the entry aedes names
        qos            INTEGER NOT NULL,           -- as delivered to this queue: min(publish, subscription)
        retain         INTEGER NOT NULL,           -- as delivered to this queue (retain-as-published)
        kind           INTEGER NOT NULL,           -- 0 publish, 1 pubrel (QoS 2 handshake half done)
        mqtt_packet_id INTEGER,                    -- MQTT packet identifier once delivery started
        PRIMARY KEY (queue_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX queue_entries_by_origin ON queue_entries (queue_id, origin_seq);
      CREATE INDEX queue_entries_by_packet_id ON queue_entries (queue_id, mqtt_packet_id) WHERE mqtt_packet_id IS NOT NULL;

      CREATE TABLE retained (
        topic      TEXT    PRIMARY KEY,
        payload    BLOB    NOT NULL,
        qos        INTEGER NOT NULL,
        fields     TEXT    NOT NULL,               -- JSON of the packet's other fields
        created_ms INTEGER NOT NULL
      );

      -- id keeps subscription order across restarts.
      CREATE TABLE mqtt_subscriptions (
        id                      INTEGER PRIMARY KEY,
        client_id               TEXT    NOT NULL,
        topic                   TEXT    NOT NULL,
        qos                     INTEGER NOT NULL,
        rh                      INTEGER,
        rap                     INTEGER,
        nl                      INTEGER,
        subscription_identifier INTEGER,
        UNIQUE (client_id, topic)
      );

      CREATE TABLE mqtt_wills (
        client_id  TEXT    PRIMARY KEY,
        broker_id  TEXT,
        topic      TEXT    NOT NULL,
        payload    BLOB    NOT NULL,
        fields     TEXT    NOT NULL,               -- JSON of the will packet's other fields
        created_ms INTEGER NOT NULL
      );

      -- Inbound QoS 2 publishes between PUBLISH and PUBREL, for [MQTT-4.3.3-2] dedup.
      CREATE TABLE mqtt_incoming (
        client_id      TEXT    NOT NULL,
        mqtt_packet_id INTEGER NOT NULL,
        topic          TEXT    NOT NULL,
        payload        BLOB    NOT NULL,
        qos            INTEGER NOT NULL,
        retain         INTEGER NOT NULL,
        properties     TEXT,
        origin_id      TEXT,
        origin_seq     INTEGER NOT NULL,
        created_ms     INTEGER NOT NULL,
        PRIMARY KEY (client_id, mqtt_packet_id)
      );
    `
  },
  // A migration's text stays as it ran. Since then, queues.delivered_seq is reserved a step of
  // entries ahead of the deliveries (core/model/delivered-watermark.ts), not raised at each commit
  // as the comment inside says.
  {
    version: 2,
    description: 'the queue model: durable exchanges, queues and bindings; AMQP messages in the shared messages table',
    sql: `
      -- Messages published through the model (AMQP) share the messages table with MQTT: topic holds
      -- the routing key, qos 1, retain 0, origin_seq 0; these columns carry the rest. NULL for MQTT rows.
      ALTER TABLE messages ADD COLUMN exchange TEXT;            -- exchange published to
      ALTER TABLE messages ADD COLUMN amqp_properties BLOB;     -- AMQP 0-9-1 property flags + list, as published

      -- Entries with seq <= delivered_seq may have been delivered before a restart (redelivered=true
      -- then). Raised once per commit per queue, not per delivery.
      ALTER TABLE queues ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0;

      -- A durable model queue: its queues row (name = 'vhost/<vhost, URI-encoded>/<name>') holds the
      -- entries; this row holds the declaration. Exclusive queues are never stored.
      CREATE TABLE queue_definitions (
        queue_id    INTEGER PRIMARY KEY,               -- queues.id
        vhost       TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        auto_delete INTEGER NOT NULL,
        arguments   TEXT    NOT NULL,                  -- JSON of the x-arguments as declared
        UNIQUE (vhost, name)
      );

      CREATE TABLE exchanges (
        vhost       TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        type        TEXT    NOT NULL,
        auto_delete INTEGER NOT NULL,
        internal    INTEGER NOT NULL,
        arguments   TEXT    NOT NULL,
        PRIMARY KEY (vhost, name)
      ) WITHOUT ROWID;

      -- Bindings whose source and destination are both durable. arguments is canonical JSON
      -- (sorted keys), so the same binding is the same row.
      CREATE TABLE bindings (
        vhost            TEXT NOT NULL,
        source           TEXT NOT NULL,
        destination_kind TEXT NOT NULL,                -- 'queue' | 'exchange'
        destination      TEXT NOT NULL,
        routing_key      TEXT NOT NULL,
        arguments        TEXT NOT NULL,
        PRIMARY KEY (vhost, source, destination_kind, destination, routing_key, arguments)
      ) WITHOUT ROWID;
      CREATE INDEX bindings_by_destination ON bindings (vhost, destination_kind, destination);
    `
  },
  {
    version: 3,
    description: 'streams: append-only records by offset, and the segment manifest (open, sealed, offloaded)',
    sql: `
      -- The local tier of a stream queue (queues.id = stream_id): one row per record, offsets from 0
      -- without gaps. Rows of an offloaded segment are deleted in the commit that records the upload.
      CREATE TABLE stream_records (
        stream_id     INTEGER NOT NULL,
        stream_offset INTEGER NOT NULL,
        timestamp_ms  INTEGER NOT NULL,              -- when the stream took it (x-stream-offset timestamps, x-max-age)
        exchange      TEXT    NOT NULL,
        routing_key   TEXT    NOT NULL,
        properties    BLOB    NOT NULL,              -- AMQP 0-9-1 property flags + list, as published
        body          BLOB    NOT NULL,
        PRIMARY KEY (stream_id, stream_offset)
      ) WITHOUT ROWID;

      -- The manifest: every segment of every stream. A stream has at most one 'open' row, whose
      -- first_offset is where the next segment begins; its other figures are kept up to date only
      -- when it is sealed (at start they are recounted from stream_records). 'sealed' rows are
      -- local and complete; 'offloaded' rows name their object and block index.
      CREATE TABLE stream_segments (
        stream_id    INTEGER NOT NULL,
        first_offset INTEGER NOT NULL,
        last_offset  INTEGER NOT NULL,
        records      INTEGER NOT NULL,
        bytes        INTEGER NOT NULL,
        first_ts     INTEGER NOT NULL,
        last_ts      INTEGER NOT NULL,
        state        TEXT    NOT NULL,               -- 'open' | 'sealed' | 'offloaded'
        object_key   TEXT,
        index_json   TEXT,
        PRIMARY KEY (stream_id, first_offset)
      ) WITHOUT ROWID;
      CREATE INDEX stream_segments_by_state ON stream_segments (state, last_ts);
    `
  },
  {
    version: 4,
    description: "MQTT engine: sessions as model queues ('mqtt-session/<client id>'); session expiry, wills and inbound QoS 2 state",
    sql: `
      -- One row per MQTT session whose state outlives its connection. The session's messages and
      -- subscriptions are its model queue and that queue's bindings; this row holds what MQTT adds.
      CREATE TABLE mqtt_sessions (
        vhost          TEXT    NOT NULL,
        client_id      TEXT    NOT NULL,
        expiry_seconds INTEGER,                      -- Session Expiry Interval; NULL = never (3.1.1 clean=false, 0xFFFFFFFF)
        expires_at_ms  INTEGER,                      -- set at disconnect; NULL while connected (or never)
        shared         TEXT    NOT NULL,             -- JSON list of the session's $share subscriptions
        PRIMARY KEY (vhost, client_id)
      ) WITHOUT ROWID;

      -- Will messages by session, with their delay: published after a crash too.
      CREATE TABLE mqtt_session_wills (
        vhost         TEXT    NOT NULL,
        client_id     TEXT    NOT NULL,
        topic         TEXT    NOT NULL,
        payload       BLOB    NOT NULL,
        qos           INTEGER NOT NULL,
        retain        INTEGER NOT NULL,
        delay_seconds INTEGER NOT NULL,
        properties    TEXT,                          -- JSON of the will's publish properties
        PRIMARY KEY (vhost, client_id)
      ) WITHOUT ROWID;

      -- Inbound QoS 2 packet identifiers between PUBREC and PUBREL: a resent PUBLISH is not routed twice [MQTT-4.3.3-9].
      CREATE TABLE mqtt_qos2_received (
        vhost     TEXT    NOT NULL,
        client_id TEXT    NOT NULL,
        packet_id INTEGER NOT NULL,
        PRIMARY KEY (vhost, client_id, packet_id)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 5,
    description: "queue entries lose the first MQTT version's lookup indexes (nothing reads them since the engine keeps sessions as model queues)",
    sql: `
      -- Every entry insert and delete maintained them: about a fifth of the work of a persisted message.
      DROP INDEX IF EXISTS queue_entries_by_origin;
      DROP INDEX IF EXISTS queue_entries_by_packet_id;
    `
  },
  {
    version: 6,
    description: 'access control: vhosts, users (password hashes, tags), permissions and topic permissions; what the YAML seed said at the last start',
    sql: `
      CREATE TABLE auth_vhosts (
        name       TEXT    PRIMARY KEY,
        created_ms INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE auth_users (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,                 -- scrypt$N$r$p$<salt>$<hash>
        scram_sha256  TEXT,                          -- RFC 5803 SCRAM-SHA-256 credentials, or NULL
        tags          TEXT NOT NULL                  -- JSON list: administrator, monitoring, policymaker, management
      ) WITHOUT ROWID;

      -- Regexes as RabbitMQ's set_permissions takes them. A row (even of three '') is access to the vhost.
      CREATE TABLE auth_permissions (
        username  TEXT NOT NULL,
        vhost     TEXT NOT NULL,
        configure TEXT NOT NULL,
        write     TEXT NOT NULL,
        read      TEXT NOT NULL,
        PRIMARY KEY (username, vhost)
      ) WITHOUT ROWID;

      CREATE TABLE auth_topic_permissions (
        username TEXT NOT NULL,
        vhost    TEXT NOT NULL,
        exchange TEXT NOT NULL,
        write    TEXT NOT NULL,
        read     TEXT NOT NULL,
        PRIMARY KEY (username, vhost, exchange)
      ) WITHOUT ROWID;

      -- Each definition the configuration file gave at the last start, as applied: a definition the file
      -- adds, changes or drops is applied at the next start; one it left alone keeps its runtime state.
      CREATE TABLE auth_seeded (
        kind   TEXT NOT NULL,                        -- vhost | user | permission | topic-permission
        key    TEXT NOT NULL,                        -- JSON of the definition's identity
        digest TEXT NOT NULL,                        -- JSON of its content
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 7,
    description: 'retained messages per vhost (MQTT clients of every vhost; the rows before belong to mqtt.vhost)',
    sql: `
      -- A retained message belongs to the vhost it was published in: the same topic in two vhosts is
      -- two messages. vhost '' marks the rows kept before vhosts: the MQTT adapter gives them to
      -- mqtt.vhost at start (SQL does not know the configuration).
      CREATE TABLE retained_by_vhost (
        vhost      TEXT    NOT NULL,
        topic      TEXT    NOT NULL,
        payload    BLOB    NOT NULL,
        qos        INTEGER NOT NULL,
        fields     TEXT    NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (vhost, topic)
      ) WITHOUT ROWID;
      INSERT INTO retained_by_vhost (vhost, topic, payload, qos, fields, created_ms)
        SELECT '', topic, payload, qos, fields, created_ms FROM retained;
      DROP TABLE retained;
      ALTER TABLE retained_by_vhost RENAME TO retained;
    `
  },
  {
    version: 8,
    description: "per-object limits as RabbitMQ sets them at runtime: a vhost's max-connections and max-queues, a user's max-connections and max-channels",
    sql: `
      -- One row per limit that is set; no row is no limit (RabbitMQ's -1 or absent). A limit outlives
      -- neither its object: deleting the vhost or user deletes its rows (object-limits-store.ts).
      CREATE TABLE object_limits (
        kind   TEXT    NOT NULL,                     -- vhost | user
        object TEXT    NOT NULL,                     -- the vhost's or the user's name
        name   TEXT    NOT NULL,                     -- max-connections | max-queues | max-channels
        value  INTEGER NOT NULL,                     -- >= 0; 0 refuses every new one
        PRIMARY KEY (kind, object, name)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 9,
    description: "an MQTT bridge's inbound QoS 2 packet identifiers between PUBREC and PUBREL, by the remote session's client id",
    sql: `
      -- Written in the transaction of the message it stands for (the message is in the core before
      -- the PUBREC): a PUBLISH the remote sends again, after a lost link or a crash of the edge, is
      -- not published twice [MQTT-4.3.3-9]. Deleted, committed, before the PUBCOMP (downlink-receipts.ts).
      CREATE TABLE bridge_qos2_received (
        bridge    TEXT    NOT NULL,
        client_id TEXT    NOT NULL,                  -- the bridge's client id at the remote: its session
        packet_id INTEGER NOT NULL,
        PRIMARY KEY (bridge, client_id, packet_id)
      ) WITHOUT ROWID;
    `
  },
  {
    version: 10,
    description: 'queue entries lose their index by origin_seq, which only the aedes engine looked up',
    sql: `
      -- Every entry insert and delete kept this index up to date for no reader: the engine that
      -- named messages by (brokerId, brokerCounter) left with aedes.
      DROP INDEX IF EXISTS queue_entries_by_origin;
    `
  },
  {
    version: 11,
    description: "an MQTT session's outbound QoS 2 packet identifiers between PUBREC and PUBCOMP (PUBRELs sent again after a restart)",
    sql: `
      -- At PUBREC the delivered entry leaves the session's queue: this row is what is left of the
      -- delivery, so the PUBREL goes again after a restart [MQTT-4.4.0-1]. Written in the commit that
      -- deletes the entry, before the PUBREL leaves; deleted at PUBCOMP and with the session. Durable
      -- sessions only. rowid order is PUBREC order, the order PUBRELs are sent in [MQTT-4.6.0-4].
      CREATE TABLE mqtt_pubrel_pending (
        vhost     TEXT    NOT NULL,
        client_id TEXT    NOT NULL,
        packet_id INTEGER NOT NULL,
        UNIQUE (vhost, client_id, packet_id)
      );
    `
  },
  {
    version: 12,
    description: "a queue entry's delivery count (quorum queues' x-delivery-count and x-delivery-limit across restarts)",
    sql: `
      -- How often the entry was handed out, stored when it is given back (queue types that count
      -- deliveries); 0 for every other entry.
      ALTER TABLE queue_entries ADD COLUMN deliveries INTEGER NOT NULL DEFAULT 0;
    `
  },
  {
    version: 13,
    description: "a message's routing keys besides its own (AMQP CC and BCC), for dead-lettering after a restart",
    sql: `
      -- JSON {"shown": [...], "hidden": [...]} (CC keys, BCC keys) of a message routed by more keys
      -- than topic; NULL for every other message. A dead-lettering without a routing key of its own
      -- routes by them again; BCC is in no header, so this is all that is left of it.
      ALTER TABLE messages ADD COLUMN extra_routing_keys TEXT;
    `
  },
  {
    version: 14,
    description: 'transient messages a paging queue wrote to leave memory (dropped at start: they do not outlive the process)',
    sql: `
      -- 1: a transient (non-persistent) message's entry, written only because its durable queue pages
      -- (storage.queueMemoryMessagesMax). A restart deletes these entries, and their messages once no
      -- other entry references them, before it loads anything. 0 for every other entry.
      ALTER TABLE queue_entries ADD COLUMN transient INTEGER NOT NULL DEFAULT 0;
      -- Only transient entries are in it: the deletion at start reads no other row, and an insert or
      -- delete of a persistent entry does not touch it.
      CREATE INDEX queue_entries_transient ON queue_entries (message_id) WHERE transient = 1;
    `
  },
  {
    version: 15,
    description: "an MQTT session's outbound packet identifiers that a restart could not work out again (a clash, a shared group's QoS 2)",
    sql: `
      -- The packet id of an outbound QoS 1/2 delivery whose id the restart could not find again,
      -- committed before its PUBLISH leaves: an entry of the session's own queue that did not take the
      -- id its place gives (seq % 65535 + 1, in use then), and every QoS 2 delivery of a shared group,
      -- whose queue is not the session's and whose message goes back to that session only after a
      -- restart [MQTT-4.8.2-4] [MQTT-4.8.2-5]. A resend then carries the id the client saw
      -- [MQTT-4.4.0-1]. Deleted no earlier than the entry (at PUBACK, with the PUBREL's row at
      -- PUBREC, at a refusal, with the session); a row whose entry is gone is dropped at start.
      -- queue_entries.mqtt_packet_id (migration 1) stays unused: a group's entry needs the session
      -- too, and a row here costs nothing to the entries that need none.
      CREATE TABLE mqtt_outbound_ids (
        vhost     TEXT    NOT NULL,
        queue     TEXT    NOT NULL,                  -- the entry's queue: the session's own, or a shared group's
        seq       INTEGER NOT NULL,                  -- the entry's place in it
        client_id TEXT    NOT NULL,                  -- the session the PUBLISH went to
        packet_id INTEGER NOT NULL,
        PRIMARY KEY (vhost, queue, seq)
      ) WITHOUT ROWID;
    `
  }
]
