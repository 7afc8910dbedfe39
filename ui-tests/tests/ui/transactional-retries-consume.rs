use kysera::{Conn, Error};

fn keep(_note: String) {}

// With retries the body may run again, so it cannot give away an owned argument.
#[kysera::transactional(retries = 3)]
fn archive(conn: &Conn, note: String) -> Result<(), Error> {
    keep(note);
    conn.batch_execute("DELETE FROM sessions")
}

fn main() {}
