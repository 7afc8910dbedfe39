DROP TABLE m_posts;
