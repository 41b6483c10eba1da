-- Issue 11, the awareness path: e-learning results kept as aggregates
-- only, the per-commune links that open the modules without an account,
-- and the territory's documentation kit. Keep in step with
-- migrations/sqlite/0017_elearning_kit.sql.

-- A commune's link to the modules: no account, the token is the key
-- (kept as its BLAKE3 hash, as the providers' links are).
CREATE TABLE elearning_links (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune TEXT NOT NULL REFERENCES communes(code),
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    -- Completions recorded through the link on `counted_day` (Paris,
    -- 'YYYY-MM-DD'): the daily cap, counted on the link itself because a
    -- completion does not say which link it came through.
    counted_day TEXT NOT NULL DEFAULT '',
    counted BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX elearning_links_commune ON elearning_links (commune);

-- One row per quiz answered, and nothing else: no name, no address, no
-- link, no time finer than the Paris day.
CREATE TABLE elearning_completions (
    commune TEXT NOT NULL REFERENCES communes(code),
    module TEXT NOT NULL,
    version TEXT NOT NULL,
    score BIGINT NOT NULL,
    questions BIGINT NOT NULL,
    day TEXT NOT NULL
);
CREATE INDEX elearning_completions_commune ON elearning_completions (commune, module);

-- The kit's files: presentation slides, procedure templates, the
-- operator's catalogue. Stored in the database, so replicas share them
-- and a backup of the database holds everything.
CREATE TABLE kit_files (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- 'presentation', 'procedure' or 'catalogue'.
    section TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    -- Recognised from the bytes: 'pdf', 'odp', 'pptx', 'odt', 'docx', 'ods', 'xlsx'.
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at BIGINT NOT NULL
);

-- Links to the national guides, editable by the staff.
CREATE TABLE kit_links (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The national guides every territory starts with (created_at 0: shipped
-- with Vigie); the staff remove or add their own.
INSERT INTO kit_links (title, description, url, created_at) VALUES
('Cybermalveillance.gouv.fr', 'Le dispositif national d''assistance aux victimes : diagnostic en ligne, mise en relation avec un prestataire de proximité, fiches pratiques pour les collectivités.', 'https://www.cybermalveillance.gouv.fr/', 0),
('17Cyber', 'En cas de cyberattaque, le réflexe : un diagnostic en quelques questions et un échange avec un policier ou un gendarme, 24 heures sur 24.', 'https://www.17cyber.gouv.fr/', 0),
('Kit de sensibilisation de Cybermalveillance.gouv.fr', 'Fiches, mémos et vidéos à imprimer ou à projeter : mots de passe, hameçonnage, sauvegardes, mises à jour, appareils mobiles.', 'https://www.cybermalveillance.gouv.fr/tous-nos-contenus/kit-de-sensibilisation', 0),
('Guide d''hygiène informatique de l''ANSSI', 'Les 42 mesures de l''Agence nationale de la sécurité des systèmes d''information, celles que suit le pré-audit de Vigie (PDF).', 'https://cyber.gouv.fr/sites/default/files/2017/01/guide_hygiene_informatique_anssi.pdf', 0),
('MonAideCyber (ANSSI)', 'Un diagnostic gratuit, fait avec un aidant de l''ANSSI, pour savoir par quoi commencer.', 'https://monaidecyber.ssi.gouv.fr/', 0),
('Signal Spam', 'Signaler un courriel d''hameçonnage ou un pourriel, pour qu''il soit bloqué chez les autres.', 'https://www.signal-spam.fr/', 0);
