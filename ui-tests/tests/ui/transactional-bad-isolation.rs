use kysera::{Conn, Error};

#[kysera::transactional(isolation = "snapshot")]
fn archive(conn: &Conn) -> Result<(), Error> {
    conn.batch_execute("DELETE FROM sessions")
}

fn main() {}
