-- item_similarity_asymmetric: pairs whose similarity differs by direction (want: none).
select a.movie_id, a.neighbor_id, a.similarity, b.similarity as reverse_similarity
from item_similarity as a
left join item_similarity as b on b.movie_id = a.neighbor_id and b.neighbor_id = a.movie_id
where b.similarity is null or abs(a.similarity - b.similarity) > 1e-12;
