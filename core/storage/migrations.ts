// Numbered schema migrations, applied in order and recorded in PRAGMA user_version.
// Append only: a released migration is never edited, a change is a new entry.
export interface Migration {
  version: number
  description: string
  sql: string
}

export const migrations: Migration[] = []
