use kysera::{Conn, Error};

#[kysera::transactional(timeout = 5)]
fn archive(conn: &Conn) -> Result<(), Error> {
    conn.batch_execute("DELETE FROM sessions")
}

fn main() {}
