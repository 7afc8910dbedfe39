use kysera::{Database, Error};

#[kysera::transactional]
fn archive(db: &Database) -> Result<(), Error> {
    db.conn()?.batch_execute("DELETE FROM sessions")
}

fn main() {}
