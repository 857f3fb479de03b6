-- Connected social accounts, their encrypted credentials, and OAuth connections in progress.
--
-- Secrets (access/refresh tokens, OAuth 1.0a secrets, PKCE verifiers, a grant waiting for the
-- member to choose Pages) are only ever stored sealed by the token vault (crier-vault): bytea of
-- [version][key id][nonce][ciphertext][tag], bound to their row by associated data. A dump of this
-- database holds no usable token.

create type platform as enum ('x', 'linkedin', 'facebook');

-- What an account is at its platform: an X user, a LinkedIn member or organization page, a
-- Facebook Page.
create type account_kind as enum ('profile', 'organization', 'page');

-- connected:    tokens believed good.
-- needs_reauth: the platform refused the token (expired, revoked by the member, missing scope);
--               publishing is held until someone reconnects.
-- revoked:      the account was removed at the platform (the member or Page is gone).
-- disconnected: a team member disconnected it; tokens are deleted, history is kept.
-- ("Expiring soon" is derived from token_expires_at when shown, never stored: it changes with time.)
create type account_status as enum ('connected', 'needs_reauth', 'revoked', 'disconnected');

create type auth_method as enum ('oauth2', 'oauth1');

-- The vault's key ids: a key is known by a fingerprint (a keyed SHA-256 of the key, which reveals
-- nothing about it) and gets a small id that sealed values carry, so keys can rotate.
create table vault_key (
    key_id      smallint primary key,
    fingerprint bytea not null,
    created_at  timestamptz not null default now(),
    constraint vault_key_id_range check (key_id between 1 and 255),
    constraint vault_key_fingerprint_key unique (fingerprint)
);

create table platform_account (
    account_id        uuid primary key default gen_random_uuid(),
    team_id           uuid not null references team (team_id) on delete cascade,
    platform          platform not null,
    kind              account_kind not null,
    -- The platform's id: X user id, LinkedIn `urn:li:person:…`/`urn:li:organization:…`, Page id.
    external_id       text not null,
    name              text not null,
    -- @username on X; vanity names elsewhere when known.
    handle            text,
    -- The platform user who granted access (X user, LinkedIn member, Facebook user): reconnecting
    -- as someone else is allowed, and shown.
    authorized_by     text not null,
    auth_method       auth_method not null,
    -- Sealed JSON of the credentials; associated data `platform_account:<team>:<platform>:<external id>`.
    credentials       bytea,
    token_expires_at  timestamptz,
    -- Whether a refresh token is held (X always; LinkedIn only for approved apps; Facebook never).
    can_refresh       boolean not null default false,
    refresh_expires_at timestamptz,
    scopes            text[] not null default '{}',
    status            account_status not null default 'connected',
    -- The platform's last word on a failed check (redacted), shown next to the status.
    status_detail     text,
    connected_by      uuid references app_user (user_id) on delete set null,
    connected_at      timestamptz not null default now(),
    last_used_at      timestamptz,
    last_verified_at  timestamptz,
    disconnected_at   timestamptz,
    -- Reconnecting updates the row instead of adding a second one.
    constraint platform_account_identity_key unique (team_id, platform, external_id),
    -- Tokens exist exactly while the account is not disconnected.
    constraint platform_account_credentials_iff_not_disconnected check ((credentials is null) = (status = 'disconnected')),
    constraint platform_account_disconnected_at check ((disconnected_at is not null) = (status = 'disconnected')),
    constraint platform_account_name_shape check (char_length(name) between 1 and 200),
    constraint platform_account_oauth1_is_x check (auth_method = 'oauth2' or platform = 'x')
);
create index platform_account_team_idx on platform_account (team_id, platform, name);

-- An OAuth connection in progress: created by "Connect …", consumed once by the callback (the
-- `state` is stored as SHA-256), then, for LinkedIn and Facebook, holding the sealed grant while
-- the member chooses which profile, organizations or Pages to connect. Expires after 10 minutes;
-- pruned by housekeeping.
create table oauth_connection (
    connection_id  uuid primary key default gen_random_uuid(),
    team_id        uuid not null references team (team_id) on delete cascade,
    user_id        uuid not null references app_user (user_id) on delete cascade,
    platform       platform not null,
    state_hash     bytea not null,
    -- Sealed PKCE verifier (X); associated data `oauth_connection:<connection id>:verifier`.
    pkce_verifier  bytea,
    -- Sealed JSON of the grant and the choices; associated data `oauth_connection:<connection id>:grant`.
    grant_payload  bytea,
    created_at     timestamptz not null default now(),
    expires_at     timestamptz not null,
    -- Set when the callback consumed the state: a replayed callback finds nothing to consume.
    called_back_at timestamptz,
    constraint oauth_connection_state_hash_key unique (state_hash),
    constraint oauth_connection_grant_after_callback check (grant_payload is null or called_back_at is not null)
);
create index oauth_connection_expires_idx on oauth_connection (expires_at);
