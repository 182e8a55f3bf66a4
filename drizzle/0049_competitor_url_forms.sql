-- Instagram and TikTok links are keyed like YouTube's (canonicalVideoUrl in src/recommendations/save-video.ts):
-- https://www.instagram.com/reel/CODE/ for /p/, /reel/, /reels/, /tv/ and /<account>/reel/ with any query, and
-- https://www.tiktok.com/@account/video/ID without its query. Before, a reel pasted with its ?igsh= share parameter
-- or under /p/ was a new video: downloaded, transcribed and analysed again. The rows saved before take the same
-- forms, so a link found again finds them. Where one video was saved twice before this, the oldest row takes the
-- form (unless a row holds it already) and the others keep their own urls: the unique key allows one row a url.
UPDATE competitive_videos v
   SET url = c.url, updated_at = now()
  FROM (
    SELECT id, url, row_number() OVER (PARTITION BY url ORDER BY created_at, id) AS nth
      FROM (
    SELECT id, created_at,
           CASE
             WHEN url ~* '^https?://(www\.|m\.)?instagram\.com/([^/?#]+/)?(p|reels?|tv)/[A-Za-z0-9_-]+/?([?#].*)?$'
               THEN regexp_replace(url, '^https?://[^/]+/([^/?#]+/)?(p|reels?|tv)/([A-Za-z0-9_-]+).*$',
                                   'https://www.instagram.com/reel/\3/')
             WHEN url ~* '^https?://(www\.|m\.)?tiktok\.com/@[^/?#]+/video/[0-9]+/?([?#].*)?$'
               THEN regexp_replace(url, '^https?://[^/]+/(@[^/?#]+)/video/([0-9]+).*$', 'https://www.tiktok.com/\1/video/\2')
             ELSE url
           END AS url
      FROM competitive_videos
      ) forms
  ) c
 WHERE v.id = c.id AND c.url <> v.url AND c.nth = 1
   AND NOT EXISTS (SELECT 1 FROM competitive_videos o WHERE o.url = c.url);
