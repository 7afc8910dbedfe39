DROP TABLE m_users;
