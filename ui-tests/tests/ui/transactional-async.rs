use kysera::{Conn, Error};

#[kysera::transactional]
async fn archive(conn: &Conn) -> Result<(), Error> {
    conn.batch_execute("DELETE FROM sessions")
}

fn main() {}
