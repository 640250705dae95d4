-- sunarchive index schema, version 1 (PRAGMA user_version = 1).
-- The index is derived data: every row except last_seen/next_check
-- bookkeeping can be rebuilt from the WARC segments.
CREATE TABLE accounts (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,	-- config section name
	platform	TEXT NOT NULL,		-- facebook | mastodon
	platform_id	TEXT NOT NULL,
	last_poll_ok	INTEGER,		-- unix s, last fully successful cycle
	last_poll	INTEGER,		-- unix s, last cycle attempted
	status		TEXT NOT NULL DEFAULT 'new',
		-- new | ok | gap | rate-limited | auth-failed | storage-error
	status_detail	TEXT,
	paused_until	INTEGER,		-- rate limited until (unix s)
	last_full_scan	INTEGER
);
CREATE TABLE segments (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,	-- file name under state_dir/archive
	created		INTEGER NOT NULL,
	sealed		INTEGER,		-- unix s; NULL while open
	size		INTEGER,		-- bytes, once sealed
	sha256		TEXT,			-- of the sealed file
	suspect		INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE records (
	seq		INTEGER PRIMARY KEY,	-- write order across segments
	record_id	TEXT NOT NULL UNIQUE,	-- WARC-Record-ID
	segment_id	INTEGER NOT NULL REFERENCES segments(id),
	offset		INTEGER NOT NULL,	-- of the gzip member in the file
	length		INTEGER NOT NULL,	-- stored (compressed) length
	sha256		TEXT NOT NULL,		-- of the stored member bytes
	type		TEXT NOT NULL,		-- warcinfo|request|response|conversion|metadata
	date		INTEGER NOT NULL,	-- WARC-Date, unix s
	account_id	INTEGER REFERENCES accounts(id),
	target_uri	TEXT,			-- redacted
	recovered	INTEGER NOT NULL DEFAULT 0,	-- indexed by crash recovery
	UNIQUE (segment_id, offset)
);
CREATE TABLE items (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id),
	platform	TEXT NOT NULL,
	platform_id	TEXT NOT NULL,
	kind		TEXT NOT NULL,		-- post | comment | reply
	parent_id	TEXT,			-- platform id of the parent
	root_id		TEXT,			-- platform id of the thread's post
	author		TEXT,			-- display name (or acct)
	author_id	TEXT,
	created		INTEGER,		-- platform creation time, unix s
	url		TEXT,
	state		TEXT NOT NULL DEFAULT 'live',
		-- live | edited | hidden | removed | restored
	hidden		INTEGER NOT NULL DEFAULT 0,
	first_seen	INTEGER NOT NULL,	-- captured-at of first version
	last_seen	INTEGER NOT NULL,	-- last successful listing with it
	first_missing	INTEGER,		-- first complete listing without it
	removed_at	INTEGER,		-- removal confirmed by lookup
	edit_marker	TEXT,			-- platform edit signal last seen
	next_check	INTEGER,		-- when its thread is re-checked
	nversions	INTEGER NOT NULL DEFAULT 0,
	UNIQUE (account_id, platform_id)
);
CREATE INDEX items_created ON items(account_id, created);
CREATE INDEX items_root ON items(root_id);
CREATE TABLE versions (
	id		INTEGER PRIMARY KEY,
	item_id		INTEGER NOT NULL REFERENCES items(id),
	seq		INTEGER NOT NULL UNIQUE REFERENCES records(seq),
	hash		TEXT NOT NULL,		-- sha256 of canonical content
	captured	INTEGER NOT NULL,	-- our clock, unix s
	platform_time	INTEGER,		-- platform's time for this version
	source_seq	INTEGER,		-- response record it came from
	text		TEXT
);
CREATE INDEX versions_item ON versions(item_id, id);
CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
	seq		INTEGER UNIQUE REFERENCES records(seq),
	account_id	INTEGER REFERENCES accounts(id),
	item_id		INTEGER REFERENCES items(id),
	type		TEXT NOT NULL,
		-- removed | hidden | unhidden | restored | gap | gap-closed
	time		INTEGER NOT NULL,
	detail		TEXT			-- JSON, as in the metadata record
);
CREATE INDEX events_item ON events(item_id);
CREATE TABLE gaps (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id),
	opened		INTEGER NOT NULL,
	closed		INTEGER,		-- NULL while open
	reason		TEXT NOT NULL,
	detail		TEXT,
	seq		INTEGER REFERENCES records(seq)
);
CREATE TABLE media (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id),
	media_key	TEXT NOT NULL,		-- platform media id
	item_id		INTEGER REFERENCES items(id),
	seq		INTEGER REFERENCES records(seq),	-- response with the bytes
	sha256		TEXT,			-- of the media bytes
	content_type	TEXT,
	size		INTEGER,
	UNIQUE (account_id, media_key)
);
-- Full text over every version's text and author; rowid = versions.id.
CREATE VIRTUAL TABLE versions_fts USING fts5(text, author,
	tokenize = 'unicode61 remove_diacritics 2');
